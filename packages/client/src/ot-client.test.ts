import { TextType, type OTType, type TextOp } from "@open-ot/core";
import { describe, expect, it, vi } from "vitest";
import type { OTClientError } from "./ot-client-error.js";
import type { OTClientEvents } from "./ot-client-events.js";
import { OTClient } from "./ot-client.js";
import type { OTClientOptions } from "./ot-client-options.js";
import { ScriptedHandshakeTransport, ScriptedTransport } from "./test-support/scripted-transport.js";
import { settle, waitUntil } from "@open-ot/harness";

const DOC = "doc-1";
const ME = "client_A";

function makeClient(
  transport: ScriptedTransport = new ScriptedTransport(),
  options: Partial<OTClientOptions<string, TextOp>> = {},
): { client: OTClient<string, TextOp>; t: ScriptedTransport } {
  const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: DOC, clientId: ME, ...options });
  return { client, t: transport };
}

/** Record every event the client emits, in order. */
function record(client: OTClient<string, TextOp>): { name: string; payload: unknown }[] {
  const events: { name: string; payload: unknown }[] = [];
  const names: (keyof OTClientEvents<string, TextOp>)[] = [
    "remoteOp",
    "snapshot",
    "ack",
    "state",
    "synced",
    "resync",
    "error",
    "connection",
  ];
  for (const name of names) client.on(name, (payload: unknown) => events.push({ name, payload }));
  return events;
}

/** The errors emitted, as plain objects (vitest compares Error instances by message only). */
function errors(events: { name: string; payload: unknown }[]): { code: string; message: string; seq: number | undefined }[] {
  return (ofType(events, "error") as OTClientError[]).map(({ code, message, seq }) => ({ code, message, seq }));
}

function ofType(events: { name: string; payload: unknown }[], name: string): unknown[] {
  return events.filter((e) => e.name === name).map((e) => e.payload);
}

async function nextSent(t: ScriptedTransport, count = 1): Promise<unknown[]> {
  await waitUntil(() => t.sent.length >= count, `${count} sent message(s)`);
  return t.take();
}

const snapshot = (revision: number, data: string, lastSeq?: number) => ({
  type: "snapshot",
  docId: DOC,
  revision,
  data,
  docType: "text",
  ...(lastSeq === undefined ? {} : { lastSeq }),
});
const joined = (revision: number) => ({ type: "joined", docId: DOC, revision });
const ack = (revision: number, seq: number) => ({ type: "ack", docId: DOC, revision, seq });
const remote = (revision: number, op: TextOp, author = "author_B") => ({ type: "op", docId: DOC, revision, op, author });
const opMsg = (revision: number, seq: number, op: TextOp) => ({ type: "op", docId: DOC, clientId: ME, seq, revision, op });

/** A client joined to DOC at `revision` with `text`. */
async function live(text = "hello", revision = 5, options: Partial<OTClientOptions<string, TextOp>> = {}, transport?: ScriptedTransport) {
  const { client, t } = makeClient(transport, options);
  const connected = client.connect();
  expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, ...(options.batch ? { batch: true } : {}) }]);
  t.deliver(snapshot(revision, text));
  await connected;
  return { client, t };
}

describe("OTClient options", () => {
  const transport = new ScriptedTransport();
  it.each([
    [{ docId: "a/b" }, /docId must be 1 to 256 characters/],
    [{ docId: "" }, /docId must be/],
    [{ clientId: "has space" }, /clientId must be 1 to 64 characters/],
    [{ snapshot: "x" }, /give `snapshot` and `revision` together/],
    [{ revision: 3 }, /give `snapshot` and `revision` together/],
    [{ snapshot: "x", revision: -1 }, /revision must be a non-negative safe integer/],
    [{ lastSeq: 1.5 }, /lastSeq must be an integer of at least 0, got 1.5/],
    [{ lastSeq: -1 }, /lastSeq must be an integer of at least 0/],
    [{ retry: { initialDelay: Number.NaN } }, /retry.initialDelay must be a number of at least 0, got NaN/],
  ])("refuses %j with a message that says what to change", (bad, message) => {
    expect(() => new OTClient<string, TextOp>({ type: TextType, transport, docId: DOC, ...bad })).toThrow(message);
  });

  it("picks a random clientId of at least 16 characters by default", () => {
    const a = new OTClient({ type: TextType, transport, docId: DOC });
    const b = new OTClient({ type: TextType, transport, docId: DOC });
    expect(a.clientId).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(a.clientId).not.toBe(b.clientId);
  });

  it("has no document before the first snapshot: reading or submitting throws", () => {
    const { client } = makeClient();
    expect(client.hasDocument).toBe(false);
    expect(() => client.snapshot).toThrow(/before the document is known; await connect\(\) first/);
    expect(() => client.submit([{ i: "x" }])).toThrow(/cannot submit before the document is known/);
  });
});

describe("connect and join", () => {
  it("joins without revision the first time, resolves on the snapshot and emits it", async () => {
    const { client, t } = makeClient();
    const events = record(client);
    const connected = client.connect();
    expect(client.connectionState).toBe("connecting");
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]);
    expect(client.connectionState).toBe("joining");
    t.deliver(snapshot(7, "abc"));
    await connected;
    expect(client.snapshot).toBe("abc");
    expect(client.revision).toBe(7);
    expect(client.state).toBe("synchronized");
    expect(ofType(events, "snapshot")).toEqual([{ snapshot: "abc", revision: 7 }]);
    expect(ofType(events, "connection")).toEqual(["connecting", "joining", "live"]);
  });

  it("sends batch: true in the join when asked", async () => {
    await live("x", 1, { batch: true });
  });

  it("resumes from a known state with a join carrying the revision, resolved by joined", async () => {
    const { client, t } = makeClient(undefined, { snapshot: "known", revision: 12 });
    const connected = client.connect();
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 12 }]);
    t.deliver(joined(12));
    await connected;
    t.deliver(remote(13, [{ i: ">" }]));
    expect(client.snapshot).toBe(">known");
    expect(client.revision).toBe(13);
  });

  it("returns the same wait to concurrent connect() calls and connects the transport once", async () => {
    const { client, t } = makeClient();
    const a = client.connect();
    const b = client.connect();
    await nextSent(t);
    t.deliver(snapshot(0, ""));
    await Promise.all([a, b]);
    expect(t.connects).toBe(1);
    await client.connect();
    expect(t.connects).toBe(1);
  });

  it("rejects with connection_failed when the transport cannot connect", async () => {
    const { client, t } = makeClient();
    t.connectError = new Error("ECONNREFUSED");
    await expect(client.connect()).rejects.toMatchObject({ code: "connection_failed", message: expect.stringMatching(/ECONNREFUSED/) });
    expect(client.connectionState).toBe("offline");
  });

  it("rejects with the server's code when the join is refused", async () => {
    const { client, t } = makeClient();
    const connected = client.connect();
    await nextSent(t);
    t.deliver({ type: "error", code: "not_found", message: "no such document", docId: DOC });
    await expect(connected).rejects.toMatchObject({ code: "not_found", docId: DOC });
    expect(client.connectionState).toBe("refused");
    // connect() again sends a new join on the same connection.
    const again = client.connect();
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]);
    t.deliver(snapshot(0, ""));
    await again;
    expect(t.connects).toBe(1);
  });

  it("rejects with connection_lost and the close code when the connection ends before the answer", async () => {
    const { client, t } = makeClient();
    const connected = client.connect();
    await nextSent(t);
    t.drop(4003, "token revoked");
    await expect(connected).rejects.toMatchObject({ code: "connection_lost", closeCode: 4003 });
  });

  it("rejects with disconnected when disconnect() comes first", async () => {
    const { client, t } = makeClient();
    const connected = client.connect();
    await nextSent(t);
    await client.disconnect();
    await expect(connected).rejects.toMatchObject({ code: "disconnected" });
    expect(t.isOpen).toBe(false);
  });

  it("rejects with doc_type_mismatch for a document of another type", async () => {
    const { client, t } = makeClient();
    const connected = client.connect();
    await nextSent(t);
    t.deliver({ ...snapshot(1, "x"), docType: "json" });
    await expect(connected).rejects.toMatchObject({
      code: "doc_type_mismatch",
      message: expect.stringMatching(/docType "json".*pass the matching type/),
    });
  });
});

describe("local edits and acks", () => {
  it("sends the first edit at once, buffers the rest, composes the buffer, and sends it under a new seq on ack", async () => {
    const { client, t } = await live("hello", 5);
    const events = record(client);

    client.submit([{ r: 5 }, { i: " world" }]);
    expect(await nextSent(t)).toEqual([opMsg(5, 1, [{ r: 5 }, { i: " world" }])]);
    expect(client.state).toBe("awaitingConfirm");

    client.submit([{ r: 11 }, { i: "!" }]);
    client.submit([{ r: 12 }, { i: "?" }]);
    await settle(3);
    expect(t.sent).toEqual([]);
    expect(client.state).toBe("awaitingWithBuffer");
    expect(client.snapshot).toBe("hello world!?");

    t.deliver(ack(6, 1));
    expect(await nextSent(t)).toEqual([opMsg(6, 2, [{ r: 11 }, { i: "!?" }])]);
    expect(client.revision).toBe(6);
    expect(client.state).toBe("awaitingConfirm");

    t.deliver(ack(7, 2));
    expect(client.state).toBe("synchronized");
    expect(client.synced).toBe(true);
    expect(client.snapshot).toBe("hello world!?");
    expect(ofType(events, "ack")).toEqual([
      { revision: 6, seq: 1 },
      { revision: 7, seq: 2 },
    ]);
    expect(ofType(events, "state")).toEqual(["awaitingConfirm", "awaitingWithBuffer", "awaitingConfirm", "synchronized"]);
    expect(ofType(events, "synced")).toEqual([false, true]);
  });

  it("refuses an op that does not fit the view, and changes nothing", async () => {
    const { client, t } = await live("hi", 1);
    expect(() => client.submit([{ r: 3 }, { i: "x" }])).toThrow(/past the end|reach/i);
    expect(client.snapshot).toBe("hi");
    expect(client.state).toBe("synchronized");
    await settle(3);
    expect(t.sent).toEqual([]);
  });

  it("numbers ops 1, 2, 3... and continues after a persisted lastSeq", async () => {
    const { client, t } = await live("", 0, { lastSeq: 41 });
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      client.submit([{ r: i }, { i: "x" }]);
      const [sent] = (await nextSent(t)) as { seq: number }[];
      seqs.push(sent!.seq);
      t.deliver(ack(i + 1, sent!.seq));
    }
    expect(seqs).toEqual([42, 43, 44, 45, 46]);
    expect(client.lastSeq).toBe(46);
  });
});

describe("remote ops", () => {
  it("applies a remote op when synchronized and emits it with its revision and author", async () => {
    const { client, t } = await live("hello", 5);
    const events = record(client);
    t.deliver(remote(6, [{ i: ">" }], "author_B"));
    expect(client.snapshot).toBe(">hello");
    expect(client.revision).toBe(6);
    expect(ofType(events, "remoteOp")).toEqual([{ op: [{ i: ">" }], revision: 6, author: "author_B" }]);
  });

  it("transforms a remote op against the op in flight and the buffer; the remote insert wins a tie", async () => {
    const { client, t } = await live("ab", 1);
    const events = record(client);
    client.submit([{ r: 1 }, { i: "1" }]); // a1b, in flight
    client.submit([{ r: 2 }, { i: "2" }]); // a12b, buffered
    await nextSent(t);
    t.deliver(remote(2, [{ r: 1 }, { i: "R" }])); // server: aRb
    expect(client.snapshot).toBe("aR12b");
    const [event] = ofType(events, "remoteOp") as { op: TextOp }[];
    expect(TextType.apply("a12b", event!.op)).toBe("aR12b");
    // The buffer is sent transformed, based on the new revision, after the ack.
    t.deliver(ack(3, 1));
    const [sent] = (await nextSent(t)) as { op: TextOp; revision: number }[];
    expect(sent!.revision).toBe(3);
    expect(TextType.apply("aR1b", sent!.op)).toBe("aR12b");
  });

  it("ignores repeated revisions", async () => {
    const { client, t } = await live("x", 5);
    t.deliver(remote(6, [{ i: "1" }]));
    t.deliver(remote(6, [{ i: "1" }]));
    t.deliver(remote(4, [{ i: "0" }]));
    expect(client.snapshot).toBe("1x");
    expect(client.revision).toBe(6);
  });

  it("lets a listener submit from inside a remoteOp event", async () => {
    const { client, t } = await live("x", 1);
    client.on("remoteOp", () => {
      if (client.snapshot === "yx") client.submit([{ i: "z" }]);
    });
    t.deliver(remote(2, [{ i: "y" }]));
    expect(await nextSent(t)).toEqual([opMsg(2, 1, [{ i: "z" }])]);
    expect(client.snapshot).toBe("zyx");
  });
});

describe("server messages the client must not act on", () => {
  it("reports garbage through the error event and ignores it", async () => {
    const { client, t } = await live("x", 1);
    const events = record(client);
    t.deliver({ type: "nonsense" });
    t.deliver(42);
    t.deliver({ type: "ack", docId: DOC, revision: -1 });
    expect(client.revision).toBe(1);
    expect((ofType(events, "error") as { code: string }[]).map((e) => e.code)).toEqual([
      "bad_server_message",
      "bad_server_message",
      "bad_server_message",
    ]);
  });

  it("ignores messages for other documents", async () => {
    const { client, t } = await live("x", 1);
    t.deliver({ ...remote(2, [{ i: "other" }]), docId: "doc-2" });
    t.deliver({ ...snapshot(9, "other"), docId: "doc-2" });
    expect(client.snapshot).toBe("x");
    expect(client.revision).toBe(1);
  });

  it("never writes to the console", async () => {
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) => vi.spyOn(console, m));
    try {
      const { client, t } = await live("x", 1);
      t.deliver({ type: "nonsense" });
      client.submit([{ i: "a" }]);
      t.deliver(remote(5, [{ i: "gap" }]));
      t.drop();
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("keeps working when a listener or the logger throws", async () => {
    const error = vi.fn();
    const { client, t } = await live("x", 1, {
      logger: {
        error,
        warn: () => {
          throw new Error("logger down");
        },
      },
    });
    client.on("remoteOp", () => {
      throw new Error("listener bug");
    });
    t.deliver(remote(2, [{ i: "a" }]));
    t.deliver({ type: "nonsense" }); // reported through the throwing warn
    t.deliver(remote(3, [{ i: "b" }]));
    expect(client.snapshot).toBe("bax");
    expect(client.revision).toBe(3);
    expect(error).toHaveBeenCalledWith('a listener of "remoteOp" threw', expect.objectContaining({ error: expect.any(Error) }));
  });

  it("reports to the logger it was given", async () => {
    const warn = vi.fn();
    const { t } = await live("x", 1, { logger: { warn } });
    t.deliver({ type: "nonsense" });
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/not a protocol message/),
      expect.objectContaining({ code: "bad_server_message" }),
    );
  });
});

describe("reconnection and resend", () => {
  it("after a drop, rejoins with its revision, resends the op in flight unchanged, and keeps new edits out of it (ShareDB PR #327)", async () => {
    const { client, t } = await live("hello", 5);
    const events = record(client);
    client.submit([{ r: 5 }, { i: "!" }]);
    expect(await nextSent(t)).toEqual([opMsg(5, 1, [{ r: 5 }, { i: "!" }])]);

    t.drop();
    expect(client.connectionState).toBe("offline");
    expect((ofType(events, "error") as { code: string }[]).map((e) => e.code)).toEqual(["connection_lost"]);
    // Edits made while offline go to the buffer, never into the op in flight.
    client.submit([{ r: 6 }, { i: "?" }]);
    expect(client.snapshot).toBe("hello!?");

    const reconnected = client.connect();
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 5 }]);
    t.deliver(joined(5));
    await reconnected;
    expect(await nextSent(t)).toEqual([opMsg(5, 1, [{ r: 5 }, { i: "!" }])]);

    // The replay: another client's op, then the ack of ours (it had been committed meanwhile).
    t.deliver(remote(6, [{ i: ">" }]));
    const [resent] = t.take();
    expect(resent).toBeUndefined();
    t.deliver(ack(7, 1));
    expect(await nextSent(t)).toEqual([opMsg(7, 2, [{ r: 7 }, { i: "?" }])]);
    expect(client.snapshot).toBe(">hello!?");
  });

  it("resends the op in flight as transformed since, with its seq, based on the current revision", async () => {
    const { client, t } = await live("ab", 1);
    client.submit([{ r: 2 }, { i: "Z" }]);
    await nextSent(t);
    t.deliver(remote(2, [{ i: "0" }]));
    t.drop();
    const reconnected = client.connect();
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 2 }]);
    t.deliver(joined(2));
    await reconnected;
    expect(await nextSent(t)).toEqual([opMsg(2, 1, [{ r: 3 }, { i: "Z" }])]);
  });

  it("ignores acks and ops between sending a join and receiving its answer", async () => {
    const { client, t } = await live("x", 1);
    client.submit([{ i: "a" }]);
    await nextSent(t);
    t.deliver(remote(3, [{ i: "gap" }])); // gap: rejoin from revision 1
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 1 }]);
    expect(client.connectionState).toBe("joining");
    // Traffic of the join being replaced: ignored.
    t.deliver(remote(2, [{ i: "old" }]));
    t.deliver(ack(2, 1));
    expect(client.revision).toBe(1);
    expect(client.state).toBe("awaitingConfirm");
    // The answer and its replay.
    t.deliver(joined(1));
    expect(await nextSent(t)).toEqual([opMsg(1, 1, [{ i: "a" }])]);
    t.deliver(remote(2, [{ i: "old" }]));
    t.deliver(remote(3, [{ i: "gap" }]));
    t.deliver(ack(4, 1));
    expect(client.revision).toBe(4);
    // Our "a" was committed after "old" and "gap", which both won the tie at position 0.
    expect(client.snapshot).toBe("gapoldax");
    expect(client.synced).toBe(true);
  });

  it("detects a gap in acks too and rejoins", async () => {
    const { client, t } = await live("x", 1);
    client.submit([{ i: "a" }]);
    await nextSent(t);
    t.deliver(ack(3, 1));
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 1 }]);
    expect(client.state).toBe("awaitingConfirm");
  });

  it("counts answers when several joins are outstanding on one connection and acts on the last", async () => {
    const { client, t } = await live("x", 1);
    client.submit([{ i: "a" }]);
    await nextSent(t);
    t.deliver(remote(3, [{ i: "gap" }])); // join #1 (revision 1)
    await nextSent(t);
    t.deliver({ type: "error", code: "internal", message: "boom", docId: DOC, seq: 1 }); // not live: reported only
    t.deliver(ack(9, 9));
    expect(client.connectionState).toBe("joining");
    t.deliver(joined(1));
    expect(await nextSent(t)).toEqual([opMsg(1, 1, [{ i: "a" }])]);
  });

  it("ignores a stray join answer while live", async () => {
    const { client, t } = await live("x", 1);
    t.deliver(snapshot(1, "stale"));
    t.deliver(joined(0));
    expect(client.snapshot).toBe("x");
    expect(client.connectionState).toBe("live");
  });
});

describe("resync from a snapshot", () => {
  it("drops a committed op in flight (lastSeq >= seq) and sends the rebased buffer under a new seq", async () => {
    const { client, t } = await live("hello", 5);
    const events = record(client);
    client.submit([{ r: 5 }, { i: " world" }]);
    await nextSent(t);
    client.submit([{ r: 11 }, { i: "!" }]);
    t.drop();
    const reconnected = client.connect();
    await nextSent(t);
    // History after 5 is gone; meanwhile our op (seq 1) and a remote "Say: " were committed.
    t.deliver(snapshot(9, "Say: hello world", 1));
    await reconnected;
    expect(client.snapshot).toBe("Say: hello world!");
    expect(client.revision).toBe(9);
    expect(await nextSent(t)).toEqual([opMsg(9, 2, [{ r: 16 }, { i: "!" }])]);
    expect(ofType(events, "snapshot")).toEqual([{ snapshot: "Say: hello world!", revision: 9 }]);
    expect(ofType(events, "resync")).toEqual([
      { reason: "connect", error: undefined, revision: 9, previousRevision: 5, pendingCommitted: true, dropped: undefined },
    ]);
  });

  it("sends pending and buffer rebased as ONE op under the pending seq when it was not committed", async () => {
    const { client, t } = await live("hello", 5);
    client.submit([{ r: 5 }, { i: " world" }]);
    await nextSent(t);
    client.submit([{ r: 11 }, { i: "!" }]);
    t.drop();
    const reconnected = client.connect();
    await nextSent(t);
    t.deliver(snapshot(9, "Say: hello")); // no lastSeq: nothing of ours was committed
    await reconnected;
    expect(client.snapshot).toBe("Say: hello world!");
    expect(await nextSent(t)).toEqual([opMsg(9, 1, [{ r: 10 }, { i: " world!" }])]);
    t.deliver(ack(10, 1));
    expect(client.synced).toBe(true);
    expect(client.lastSeq).toBe(1);
  });

  it("drops unacknowledged edits for a type without diff, and reports it", async () => {
    const noDiff: OTType<string, TextOp> = { ...TextType, name: "plain" };
    const { client, t } = makeClient(undefined, { type: noDiff });
    const events = record(client);
    const connected = client.connect();
    await nextSent(t);
    t.deliver({ ...snapshot(1, "abc"), docType: "plain" });
    await connected;
    client.submit([{ i: "x" }]);
    await nextSent(t);
    t.drop();
    const reconnected = client.connect();
    await nextSent(t);
    t.deliver({ ...snapshot(4, "ABC"), docType: "plain" });
    await reconnected;
    expect(client.snapshot).toBe("ABC");
    expect(client.synced).toBe(true);
    await settle(3);
    expect(t.sent).toEqual([]);
    const [resync] = ofType(events, "resync") as { dropped: TextOp }[];
    expect(TextType.apply("abc", resync!.dropped)).toBe("xabc");
    expect(errors(events)).toContainEqual(
      expect.objectContaining({ code: "edits_dropped", message: expect.stringMatching(/has no diff; pass the `diff` option/) }),
    );
  });

  it("uses a diff given in the options for a type without one", async () => {
    const noDiff: OTType<string, TextOp> = { ...TextType, name: "plain" };
    const diff = vi.fn((from: string, to: string): TextOp =>
      to.startsWith(from) ? [{ r: from.length }, { i: to.slice(from.length) }] : [{ d: from.length }, { i: to }],
    );
    const { client, t } = makeClient(undefined, { type: noDiff, diff });
    const connected = client.connect();
    await nextSent(t);
    t.deliver({ ...snapshot(1, "abc"), docType: "plain" });
    await connected;
    client.submit([{ i: "x" }]);
    await nextSent(t);
    t.drop();
    const reconnected = client.connect();
    await nextSent(t);
    t.deliver({ ...snapshot(4, "abcdef"), docType: "plain" });
    await reconnected;
    expect(diff).toHaveBeenCalledWith("abc", "abcdef");
    expect(client.snapshot).toBe("xabcdef");
  });

  it("resyncs when the op in flight is refused, rebases once under the same seq, and drops the edits on a second refusal", async () => {
    const { client, t } = await live("hello", 5);
    const events = record(client);
    client.submit([{ r: 5 }, { i: "!" }]);
    await nextSent(t);
    client.submit([{ i: ">" }]);

    t.deliver({ type: "error", code: "invalid_op", message: "reaches past the end", docId: DOC, seq: 1 });
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]); // no revision: a snapshot
    t.deliver(snapshot(6, "hello you"));
    expect(client.snapshot).toBe(">hello you!");
    const [rebased] = (await nextSent(t)) as { seq: number; revision: number; op: TextOp }[];
    expect(rebased).toMatchObject({ seq: 1, revision: 6 });
    expect(TextType.apply("hello you", rebased!.op)).toBe(">hello you!");
    expect(ofType(events, "resync")).toEqual([
      expect.objectContaining({
        reason: "op_refused",
        error: expect.objectContaining({ code: "invalid_op", seq: 1 }),
        pendingCommitted: false,
        dropped: undefined,
      }),
    ]);

    t.deliver({ type: "error", code: "invalid_op", message: "still wrong", docId: DOC, seq: 1 });
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]);
    t.deliver(snapshot(6, "hello you"));
    expect(client.snapshot).toBe("hello you");
    expect(client.synced).toBe(true);
    const resyncs = ofType(events, "resync") as { dropped: TextOp | undefined }[];
    expect(resyncs[1]!.dropped).toBeDefined();
    expect(errors(events)).toContainEqual(
      expect.objectContaining({ code: "edits_dropped", message: expect.stringMatching(/refused them twice/) }),
    );
    // New edits carry new seqs.
    client.submit([{ i: "n" }]);
    expect(await nextSent(t)).toEqual([opMsg(6, 2, [{ i: "n" }])]);
  });

  it("learns from lastSeq that a refused op was committed after all", async () => {
    const { client, t } = await live("ab", 1);
    client.submit([{ i: "x" }]);
    await nextSent(t);
    // A first bad_revision may mean the document was lost: rejoin from the revision held...
    t.deliver({ type: "error", code: "bad_revision", message: "ahead of the document", docId: DOC, seq: 1 });
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 1 }]);
    t.deliver(joined(1));
    expect(await nextSent(t)).toEqual([opMsg(1, 1, [{ i: "x" }])]);
    // ...a second one for the same op, after the server accepted that revision, is about the op: resync.
    t.deliver({ type: "error", code: "bad_revision", message: "ahead of the document", docId: DOC, seq: 1 });
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]);
    t.deliver(snapshot(2, "xab", 1));
    expect(client.snapshot).toBe("xab");
    expect(client.synced).toBe(true);
    await settle(3);
    expect(t.sent).toEqual([]);
  });

  it.each(["resync_required", "internal", "rate_limited", "unavailable"])(
    "rejoins from its revision and resends the same op after a refusal that says nothing against it (%s)",
    async (code) => {
      // Transient codes wait for a retry timer first; with no delay it fires on the next turn.
      const { client, t } = await live("ab", 1, { retry: { initialDelay: 0, maxDelay: 0 } });
      client.submit([{ i: "x" }]);
      await nextSent(t);
      t.deliver(remote(2, [{ i: "0" }]));
      t.deliver({ type: "error", code, message: "not now", docId: DOC, seq: 1 });
      expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 2 }]);
      t.deliver(joined(2));
      expect(await nextSent(t)).toEqual([opMsg(2, 1, [{ r: 1 }, { i: "x" }])]);
      t.deliver(ack(3, 1));
      expect(client.snapshot).toBe("0xab");
      expect(client.synced).toBe(true);
    },
  );

  it("rebases under the same seq when a transient refusal's rejoin finds the history gone", async () => {
    const { client, t } = await live("ab", 1);
    const events = record(client);
    client.submit([{ i: "x" }]);
    await nextSent(t);
    t.deliver({ type: "error", code: "resync_required", message: "too old", docId: DOC, seq: 1 });
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 1 }]);
    t.deliver(snapshot(40, "ab!"));
    expect(client.snapshot).toBe("xab!");
    expect(await nextSent(t)).toEqual([opMsg(40, 1, [{ i: "x" }])]);
    expect(ofType(events, "resync")).toEqual([
      { reason: "op_refused", error: undefined, revision: 40, previousRevision: 1, pendingCommitted: false, dropped: undefined },
    ]);
  });

  it("reports errors about other seqs without resyncing", async () => {
    const { client, t } = await live("ab", 1);
    const events = record(client);
    client.submit([{ i: "x" }]);
    await nextSent(t);
    t.deliver({ type: "error", code: "resync_required", message: "too old", docId: DOC, seq: 7 });
    t.deliver({ type: "error", code: "rate_limited", message: "slow down" });
    await settle(3);
    expect(t.sent).toEqual([]);
    expect(client.connectionState).toBe("live");
    expect((ofType(events, "error") as { code: string }[]).map((e) => e.code)).toEqual(["resync_required", "rate_limited"]);
  });

  it("treats an ack for another seq as a protocol violation and resyncs", async () => {
    const { client, t } = await live("ab", 1);
    const events = record(client);
    client.submit([{ i: "x" }]);
    await nextSent(t);
    t.deliver(ack(2, 5));
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]);
    expect(errors(events)).toContainEqual(
      expect.objectContaining({ code: "protocol_violation", message: expect.stringMatching(/seq 5 while seq 1/) }),
    );
    t.deliver(snapshot(2, "xab", 1));
    expect(client.synced).toBe(true);
    expect(ofType(events, "resync")).toEqual([expect.objectContaining({ reason: "protocol_violation", pendingCommitted: true })]);
  });

  it.each([
    ["not an array", "nope", /must be an array/],
    ["an unknown component", [{ x: 1 }], /exactly one key/],
    ["two keys in a component", [{ r: 1, i: "x" }], /exactly one key/],
    ["a negative count", [{ r: -1 }], /non-negative integer/],
    ["a lone surrogate", [{ i: "\uD83D" }], /lone surrogate/],
    ["a retain past the end", [{ r: 10 }, { i: "x" }], /past the end/],
    ["a delete past the end", [{ i: "x" }, { d: 3 }], /past the end/],
  ])("refuses a remote op with %s while an op is in flight, and keeps the op in flight", async (_, bad, reason) => {
    const { client, t } = await live("ab", 1);
    const events = record(client);
    client.submit([{ r: 1 }, { i: "x" }]);
    expect(await nextSent(t)).toEqual([opMsg(1, 1, [{ r: 1 }, { i: "x" }])]);
    t.deliver(remote(2, bad as TextOp));
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]);
    expect(errors(events)).toEqual([expect.objectContaining({ code: "protocol_violation", message: expect.stringMatching(reason) })]);
    expect(ofType(events, "remoteOp")).toEqual([]);
    expect(client.snapshot).toBe("axb");
    expect(client.revision).toBe(1);
    expect(client.state).toBe("awaitingConfirm");
    // The resync keeps the edit: the snapshot says it was not committed, so it is rebased and resent.
    t.deliver(snapshot(2, "Yab"));
    expect(client.snapshot).toBe("Yaxb");
    expect(await nextSent(t)).toEqual([opMsg(2, 1, [{ r: 2 }, { i: "x" }])]);
  });

  it("transforms a remote op in any well-formed form as TextType does, and emits it as sent when nothing is pending", async () => {
    const { client, t } = await live("abcd", 1);
    const events = record(client);
    // Not in normal form: an empty insert, split retains, a trailing retain.
    const loose: TextOp = [{ i: "" }, { r: 1 }, { r: 1 }, { i: "X" }, { d: 0 }, { r: 2 }];
    t.deliver(remote(2, loose));
    expect(ofType(events, "remoteOp")).toEqual([{ op: loose, revision: 2, author: "author_B" }]);
    expect(client.snapshot).toBe("abXcd");
    client.submit([{ r: 1 }, { r: 0 }, { i: "y" }, { r: 4 }]);
    await nextSent(t);
    t.deliver(remote(3, loose));
    const transformed = TextType.transform(loose, [{ r: 1 }, { r: 0 }, { i: "y" }, { r: 4 }], "left");
    expect(ofType(events, "remoteOp")[1]).toEqual({ op: transformed, revision: 3, author: "author_B" });
    expect(client.snapshot).toBe("aybXXcd");
    t.deliver(ack(4, 1));
    expect(client.synced).toBe(true);
    expect(client.snapshot).toBe("aybXXcd");
  });

  it("shows the server's text plus the op in flight and the buffer after remote ops that were not read one by one", async () => {
    const { client, t } = await live("ab", 1);
    client.submit([{ i: "x" }]);
    expect(await nextSent(t)).toEqual([opMsg(1, 1, [{ i: "x" }])]);
    client.submit([{ r: 3 }, { i: "y" }]);
    t.deliver(remote(2, [{ r: 1 }, { i: "R" }]));
    t.deliver(remote(3, [{ d: 1 }]));
    expect(client.snapshot).toBe("xRby");
    t.deliver(remote(4, [{ r: 2 }, { i: "S" }]));
    client.submit([{ d: 1 }]);
    expect(client.snapshot).toBe("RbSy");
    t.deliver(ack(5, 1));
    expect(await nextSent(t)).toEqual([opMsg(5, 2, [{ d: 1 }, { r: 3 }, { i: "y" }])]);
    expect(client.snapshot).toBe("RbSy");
    t.deliver(remote(6, [{ i: "T" }]));
    t.deliver(ack(7, 2));
    expect(client.synced).toBe(true);
    expect(client.snapshot).toBe("TRbSy");
  });

  it("resyncs when a remote op does not apply", async () => {
    const { client, t } = await live("ab", 1);
    t.deliver(remote(2, [{ r: 10 }, { i: "x" }]));
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]);
    expect(client.snapshot).toBe("ab");
    expect(client.revision).toBe(1);
  });
});

describe("send failures", () => {
  it("keep the op pending; a plain transport is closed so that connect() rejoins and resends it", async () => {
    const { client, t } = await live("ab", 1);
    const events = record(client);
    t.sendError = new Error("socket not writable");
    client.submit([{ i: "x" }]);
    await waitUntil(() => client.connectionState === "offline", "offline after the failed send");
    expect(errors(events)).toContainEqual(
      expect.objectContaining({ code: "send_failed", seq: 1, message: expect.stringMatching(/stays pending/) }),
    );
    expect(client.state).toBe("awaitingConfirm");

    t.sendError = undefined;
    const reconnected = client.connect();
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 1 }]);
    t.deliver(joined(1));
    await reconnected;
    expect(await nextSent(t)).toEqual([opMsg(1, 1, [{ i: "x" }])]);
  });
});

describe("HandshakeCapable transports", () => {
  it("join through the handshake on connect and on every reconnection, then resend the op in flight", async () => {
    const t = new ScriptedHandshakeTransport();
    const { client } = makeClient(t);
    const connected = client.connect();
    expect(await nextSent(t)).toEqual([{ type: "join", docId: DOC, clientId: ME }]);
    expect(t.handshakes).toBe(1);
    t.deliver(snapshot(3, "abc"));
    await connected;

    client.submit([{ i: "1" }]);
    expect(await nextSent(t)).toEqual([opMsg(3, 1, [{ i: "1" }])]);
    t.lose();
    client.submit([{ i: "2" }]); // buffered, never folded into seq 1
    await t.reconnect();
    expect(t.handshakes).toBe(2);
    expect(t.take()).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 3 }]);
    expect(client.connectionState).toBe("joining");
    t.deliver(joined(3));
    expect(await nextSent(t)).toEqual([opMsg(3, 1, [{ i: "1" }])]);
    t.deliver(ack(4, 1));
    expect(await nextSent(t)).toEqual([opMsg(4, 2, [{ i: "2" }])]);
    expect(client.snapshot).toBe("21abc");
  });

  it("keeps the op pending when a send fails while the transport reconnects, without closing it", async () => {
    const t = new ScriptedHandshakeTransport();
    const { client } = makeClient(t);
    const connected = client.connect();
    await nextSent(t);
    t.deliver(snapshot(0, ""));
    await connected;
    t.lose();
    client.submit([{ i: "x" }]); // the wrapper rejects (queue off)
    await settle(3);
    expect(client.connectionState).toBe("live");
    expect(t.isOpen).toBe(false);
    await t.reconnect();
    expect(t.take()).toEqual([{ type: "join", docId: DOC, clientId: ME, revision: 0 }]);
    t.deliver(joined(0));
    expect(await nextSent(t)).toEqual([opMsg(0, 1, [{ i: "x" }])]);
  });

  it("fails the handshake when the join cannot be sent, and unregisters it on disconnect()", async () => {
    const t = new ScriptedHandshakeTransport();
    const { client } = makeClient(t);
    const connected = client.connect();
    await nextSent(t);
    t.deliver(snapshot(0, ""));
    await connected;
    await expect(t.handshake!(() => Promise.reject(new Error("closed again")))).rejects.toMatchObject({ code: "send_failed" });
    await client.disconnect();
    expect(t.handshake).toBeUndefined();
  });
});
