// The client after refusals and losses: transient codes are retried by themselves (backoff with
// jitter, no limit), final codes stop the client and say what to do, and a document the server
// lost is named as such and restored from the client's copy. Fake timers for the backoff only;
// everything else runs as usual.
import { MAX_RESTORE_AUTHORS, TextType, type TextOp } from "@open-ot/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { OTClientError } from "./ot-client-error.js";
import type { OTClientEvents, OTClientStatus } from "./ot-client-events.js";
import { OTClient } from "./ot-client.js";
import type { OTClientOptions } from "./ot-client-options.js";
import { ScriptedHandshakeTransport, ScriptedTransport } from "./test-support/scripted-transport.js";
import { settle } from "@open-ot/harness";

const DOC = "doc-1";
const ME = "client_A";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Retry delays are `random * window`: 0.5 makes them half the window, easy to check. */
const RETRY = { initialDelay: 1_000, maxDelay: 8_000, random: () => 0.5 };

function makeClient(options: Partial<OTClientOptions<string, TextOp>> = {}, transport = new ScriptedTransport()) {
  const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: DOC, clientId: ME, retry: RETRY, ...options });
  const events: { name: keyof OTClientEvents<string, TextOp>; payload: unknown }[] = [];
  for (const name of ["status", "lost", "restored", "resync", "error"] as const) {
    client.on(name, (payload: unknown) => events.push({ name, payload }));
  }
  const of = <K extends keyof OTClientEvents<string, TextOp>>(name: K) =>
    events.filter((e) => e.name === name).map((e) => e.payload as OTClientEvents<string, TextOp>[K]);
  return { client, t: transport, of };
}

/** What the client sent, once it sent `count` messages (awaited in event-loop turns: timers are fake here). */
async function sent(t: ScriptedTransport, count = 1): Promise<unknown[]> {
  for (let turn = 0; turn < 1000 && t.sent.length < count; turn++) await settle();
  expect(t.sent.length, `${count} sent message(s)`).toBeGreaterThanOrEqual(count);
  return t.take();
}

const snapshot = (revision: number, data: string, extra: Record<string, unknown> = {}) => ({
  type: "snapshot",
  docId: DOC,
  revision,
  data,
  docType: "text",
  ...extra,
});
const joined = (revision: number, extra: Record<string, unknown> = {}) => ({ type: "joined", docId: DOC, revision, ...extra });
const ack = (revision: number, seq: number) => ({ type: "ack", docId: DOC, revision, seq });
const refusal = (code: string, extra: Record<string, unknown> = {}) => ({
  type: "error",
  code,
  message: `refused: ${code}`,
  docId: DOC,
  ...extra,
});
const join = (extra: Record<string, unknown> = {}) => ({ type: "join", docId: DOC, clientId: ME, ...extra });
const op = (revision: number, seq: number, ops: TextOp) => ({ type: "op", docId: DOC, clientId: ME, seq, revision, op: ops });

/** A client joined to DOC at `revision` with `text` (epoch "e1"). */
async function live(text = "ab", revision = 1, options: Partial<OTClientOptions<string, TextOp>> = {}, transport?: ScriptedTransport) {
  const made = makeClient(options, transport);
  const connected = made.client.connect();
  expect(await sent(made.t)).toEqual([join()]);
  made.t.deliver(snapshot(revision, text, { epoch: "e1" }));
  await connected;
  return made;
}

/** Let the client's retry timer run out after `ms`, and the promise callbacks behind it. */
async function elapse(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

const TRANSIENT = ["unavailable", "internal", "rate_limited"] as const;

describe("a join refused with a transient code", () => {
  it.each(TRANSIENT)(
    "(%s) waits with a growing, jittered delay, says when it tries again, and rejoins until it is accepted",
    async (code) => {
      const { client, t, of } = makeClient();
      let connected = false;
      const connecting = client.connect().then(() => (connected = true));
      expect(await sent(t)).toEqual([join()]);
      for (const [attempt, delay] of [
        [1, 500],
        [2, 1_000],
        [3, 2_000],
        [4, 4_000],
        [5, 4_000],
      ] as const) {
        t.deliver(refusal(code));
        expect(client.connectionState).toBe("waiting");
        expect(client.status).toMatchObject({ state: "waiting", code, attempt, nextRetryAt: Date.now() + delay });
        await elapse(delay - 1);
        expect(t.sent).toEqual([]);
        await elapse(1);
        expect(await sent(t)).toEqual([join()]);
        expect(client.connectionState).toBe("joining");
      }
      expect(connected).toBe(false);
      t.deliver(snapshot(3, "abc", { epoch: "e1" }));
      await connecting;
      expect(client.status).toEqual({ state: "live", reason: "connected: edits are being saved" });
      expect(of("status").filter((s) => s.state === "waiting")).toHaveLength(5);
    },
  );

  it("never gives up while the transport is open: the delay stops growing at maxDelay", async () => {
    const { client, t } = makeClient();
    void client.connect().catch(() => undefined);
    await sent(t);
    for (let attempt = 1; attempt <= 30; attempt++) {
      t.deliver(refusal("unavailable"));
      expect(client.status).toMatchObject({ state: "waiting", attempt });
      await elapse((client.status as { nextRetryAt: number }).nextRetryAt - Date.now());
      await sent(t);
    }
    t.deliver(refusal("unavailable"));
    expect((client.status as { nextRetryAt: number }).nextRetryAt - Date.now()).toBe(4_000);
  });

  it("retryNow() tries at once; a drop cancels the retry; a reconnection rejoins at once", async () => {
    const { client, t } = makeClient();
    void client.connect().catch(() => undefined);
    await sent(t);
    t.deliver(refusal("unavailable"));
    client.retryNow();
    expect(await sent(t)).toEqual([join()]);
    t.deliver(refusal("unavailable"));
    t.drop();
    expect(client.connectionState).toBe("offline");
    await elapse(60_000);
    expect(t.sent).toEqual([]);

    const transport = new ScriptedHandshakeTransport();
    const h = makeClient({}, transport);
    void h.client.connect().catch(() => undefined);
    expect(await sent(h.t)).toEqual([join()]);
    h.t.deliver(refusal("unavailable"));
    transport.lose();
    await transport.reconnect();
    expect(await sent(h.t)).toEqual([join()]);
    await elapse(60_000);
    expect(h.t.sent).toEqual([]); // the cancelled timer sends nothing
  });
});

describe("an op refused with a transient code", () => {
  it.each(TRANSIENT)("(%s) keeps the op and later edits, waits, rejoins from its revision and resends the same op", async (code) => {
    const { client, t } = await live("ab", 1);
    client.submit([{ i: "x" }]);
    expect(await sent(t)).toEqual([op(1, 1, [{ i: "x" }])]);
    t.deliver(refusal(code, { seq: 1 }));
    expect(client.status).toMatchObject({ state: "waiting", code, attempt: 1 });
    // Typing goes on; nothing is sent while waiting.
    client.submit([{ r: 1 }, { i: "y" }]);
    expect(client.snapshot).toBe("xyab");
    await elapse(499);
    expect(t.sent).toEqual([]);
    await elapse(1);
    expect(await sent(t)).toEqual([join({ revision: 1, epoch: "e1" })]);
    t.deliver(joined(1, { epoch: "e1" }));
    expect(await sent(t)).toEqual([op(1, 1, [{ i: "x" }])]);
    t.deliver(ack(2, 1));
    expect(await sent(t)).toEqual([op(2, 2, [{ r: 1 }, { i: "y" }])]);
    t.deliver(ack(3, 2));
    expect(client.synced).toBe(true);
    expect(client.connectionState).toBe("live");
  });
});

describe("final codes stop the client and say what to do", () => {
  it.each(["unauthorized", "forbidden", "not_found", "bad_message", "too_large"] as const)(
    "a join refused with %s: refused, with an action, never retried by itself",
    async (code) => {
      const { client, t } = makeClient();
      const connecting = client.connect();
      await sent(t);
      t.deliver(refusal(code));
      await expect(connecting).rejects.toMatchObject({ code });
      expect(client.status).toMatchObject({ state: "refused", code, action: expect.any(String) });
      expect((client.status as { action: string }).action.length).toBeGreaterThan(20);
      await elapse(120_000);
      expect(t.sent).toEqual([]);
      // The application decides: connect() tries again.
      void client.connect().catch(() => undefined);
      expect(await sent(t)).toEqual([join()]);
    },
  );

  it.each(["unauthorized", "forbidden", "not_found"] as const)(
    "an op refused with %s: refused, the op kept, not resent by itself",
    async (code) => {
      const { client, t } = await live("ab", 1);
      client.submit([{ i: "x" }]);
      await sent(t);
      t.deliver(refusal(code, { seq: 1 }));
      expect(client.status).toMatchObject({ state: "refused", code });
      expect(client.synced).toBe(false);
      expect(client.snapshot).toBe("xab");
      await elapse(120_000);
      expect(t.sent).toEqual([]);
      void client.connect().catch(() => undefined);
      expect(await sent(t)).toEqual([join({ revision: 1, epoch: "e1" })]);
      t.deliver(joined(1));
      expect(await sent(t)).toEqual([op(1, 1, [{ i: "x" }])]);
    },
  );
});

describe("a lost document", () => {
  it("is a state of its own; the client offers its copy (revision, epoch, author seqs) and keeps its edits, which are sent once its copy wins", async () => {
    const { client, t, of } = await live("ab", 1);
    t.deliver({ type: "op", docId: DOC, revision: 2, op: [{ i: "B" }], author: "AUTHOR_b_0000000", seq: 4 });
    client.submit([{ r: 3 }, { i: "!" }]);
    await sent(t);
    t.drop();
    void client.connect().catch(() => undefined);
    expect(await sent(t)).toEqual([join({ revision: 2, epoch: "e1" })]);
    // The server restarted without its data.
    t.deliver(refusal("bad_revision", { serverRevision: null }));
    expect(of("lost")).toEqual([{ serverRevision: null, revision: 2, restorable: true, unacknowledged: true }]);
    expect(await sent(t)).toEqual([join({ revision: 2, epoch: "e1", restore: { data: "Bab", seqs: { AUTHOR_b_0000000: 4 } } })]);
    expect(client.status).toMatchObject({ state: "joining", restoring: true });
    expect(client.snapshot).toBe("Bab!");
    // Its copy won: the server resumes it from its own revision, in the document's new epoch.
    t.deliver(joined(2, { epoch: "e2" }));
    expect(await sent(t)).toEqual([op(2, 1, [{ r: 3 }, { i: "!" }])]);
    expect(of("restored")).toEqual([{ outcome: "restored", revision: 2, previousRevision: 2 }]);
    expect(client.epoch).toBe("e2");
    t.deliver(ack(3, 1));
    expect(client.synced).toBe(true);
  });

  it("offers the author seqs of at most MAX_RESTORE_AUTHORS authors, those whose seq rose last", async () => {
    const { client, t } = await live("", 1);
    const authors = 2 * MAX_RESTORE_AUTHORS + 5;
    const last = authors - 1;
    const name = (k: number) => `AUTHOR_${String(k).padStart(6, "0")}`;
    let revision = 1;
    const remote = (k: number, seq: number) => ({ type: "op", docId: DOC, revision: ++revision, op: [{ i: "x" }], author: name(k), seq });
    for (let k = 0; k < authors; k++) t.deliver(remote(k, k === last ? 5 : 1));
    // A lower seq and the same seq again are no rise; the first author, long dropped, comes back.
    t.deliver(remote(last, 3));
    t.deliver(remote(authors - MAX_RESTORE_AUTHORS, 1));
    t.deliver(remote(0, 2));
    expect(client.revision).toBe(revision);
    t.drop();
    void client.connect().catch(() => undefined);
    await sent(t);
    t.deliver(refusal("bad_revision", { serverRevision: null }));
    const [restoreJoin] = (await sent(t)) as { restore: { seqs: Record<string, number> } }[];
    const expected: Record<string, number> = { [name(0)]: 2, [name(last)]: 5 };
    for (let k = authors - MAX_RESTORE_AUTHORS + 1; k < last; k++) expected[name(k)] = 1;
    expect(Object.keys(expected)).toHaveLength(MAX_RESTORE_AUTHORS);
    expect(restoreJoin?.restore.seqs).toEqual(expected);
  });

  it("rebases its edits onto another client's copy that won, and does not resend an op the winner already holds (lastSeq)", async () => {
    const { client, t, of } = await live("ab", 1);
    client.submit([{ i: "x" }]); // committed as revision 2 before the server lost it, but the ack never came
    await sent(t);
    client.submit([{ r: 3 }, { i: "!" }]); // buffered
    t.drop();
    void client.connect().catch(() => undefined);
    await sent(t);
    t.deliver(refusal("bad_revision", { serverRevision: null }));
    await sent(t); // the restore join
    // Another tab's copy won: it had seen "x" (and one more op), and named this client's seq.
    t.deliver(snapshot(3, "xabZ", { epoch: "e2", lastSeq: 1 }));
    // "x" once; the buffered "!" after the winner's "Z", which was committed first (the tie rule).
    expect(client.snapshot).toBe("xabZ!");
    expect(await sent(t)).toEqual([op(3, 2, [{ r: 4 }, { i: "!" }])]);
    expect(of("restored")).toEqual([{ outcome: "rebased", revision: 3, previousRevision: 1 }]);
  });

  it("with restore 'manual', waits for the application: connect() rejects, restore() offers the copy", async () => {
    const { client, t, of } = makeClient({ restore: "manual", snapshot: "abc", revision: 9, epoch: "e1" });
    const connecting = client.connect();
    expect(await sent(t)).toEqual([join({ revision: 9, epoch: "e1" })]);
    t.deliver(refusal("bad_revision", { serverRevision: 4 }));
    await expect(connecting).rejects.toMatchObject({ code: "document_lost" });
    expect(client.status).toMatchObject({ state: "lost", serverRevision: 4, revision: 9, restorable: true, unacknowledged: false });
    await elapse(60_000);
    expect(t.sent).toEqual([]);
    await expect(client.connect()).rejects.toMatchObject({ code: "document_lost" });
    const restored = client.restore();
    expect(await sent(t)).toEqual([join({ revision: 9, epoch: "e1", restore: { data: "abc" } })]);
    t.deliver(joined(9, { epoch: "e2" }));
    await restored;
    expect(of("restored")).toEqual([{ outcome: "restored", revision: 9, previousRevision: 9 }]);
  });

  it("after a refused restore (another document holds the id), stays lost until the application adopts the server's copy", async () => {
    const transport = new ScriptedHandshakeTransport();
    const { client, t, of } = makeClient({ snapshot: "mine", revision: 3, epoch: "e1" }, transport);
    void client.connect().catch(() => undefined);
    await sent(t);
    client.submit([{ i: ">" }]);
    t.deliver(refusal("bad_revision", { serverRevision: 2 }));
    expect(await sent(t)).toEqual([join({ revision: 3, epoch: "e1", restore: { data: "mine" } })]);
    t.deliver(refusal("bad_revision", { serverRevision: 2 }));
    expect(client.status).toMatchObject({ state: "lost", restorable: false, unacknowledged: true });
    // A reconnection does not try again: only the application can choose between two documents.
    transport.lose();
    await transport.reconnect();
    expect(t.sent).toEqual([]);
    const adopted = client.adoptServerCopy();
    expect(await sent(t)).toEqual([join()]);
    t.deliver(snapshot(2, "theirs", { epoch: "e9" }));
    await adopted;
    expect(client.snapshot).toBe("theirs");
    expect(client.synced).toBe(true);
    expect(of("resync").at(-1)).toMatchObject({ reason: "adopt", dropped: [{ i: ">" }] });
    expect(of("restored")).toEqual([{ outcome: "adopted", revision: 2, previousRevision: 3 }]);
  });

  it("takes an op refused with bad_revision as a sign of loss: it rejoins from its revision, which tells", async () => {
    const { client, t, of } = await live("ab", 5);
    client.submit([{ i: "x" }]);
    await sent(t);
    t.deliver(refusal("bad_revision", { seq: 1 }));
    expect(await sent(t)).toEqual([join({ revision: 5, epoch: "e1" })]);
    t.deliver(refusal("bad_revision", { serverRevision: 2 }));
    expect(of("lost")).toHaveLength(1);
    expect(await sent(t)).toEqual([join({ revision: 5, epoch: "e1", restore: { data: "ab" } })]);
  });

  it("notices a restore from another copy in the answer to an ordinary rejoin (a new epoch)", async () => {
    const { client, t, of } = await live("ab", 4);
    t.drop();
    void client.connect().catch(() => undefined);
    expect(await sent(t)).toEqual([join({ revision: 4, epoch: "e1" })]);
    t.deliver(joined(4, { epoch: "e2" }));
    expect(client.epoch).toBe("e2");
    expect(of("restored")).toEqual([{ outcome: "rebased", revision: 4, previousRevision: 4 }]);
    client.submit([{ i: "y" }]);
    expect(await sent(t)).toEqual([op(4, 1, [{ i: "y" }])]);
  });
});

describe("status", () => {
  it("is emitted on every change with what a UI says", async () => {
    const { client, t, of } = makeClient();
    void client.connect().catch(() => undefined);
    await sent(t);
    t.deliver(refusal("unavailable"));
    const statuses: OTClientStatus[] = of("status");
    expect(statuses.map((s) => s.state)).toEqual(["connecting", "joining", "waiting"]);
    expect(statuses.at(-1)?.reason).toMatch(/cannot save right now/);
    const error = of("error").at(-1) as OTClientError;
    expect(error.code).toBe("unavailable");
  });
});
