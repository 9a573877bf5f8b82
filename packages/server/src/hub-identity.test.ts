// Client identity in the hub: clientIds never leave their client (op messages carry an author
// label), a clientId is bound to the principal that first commits under it, seqs may not jump
// absurdly far, and a client keeps one connection per document (the older one is closed).
import { CloseCode, type ServerMessage } from "@open-ot/core";
import { afterEach, describe, expect, it } from "vitest";
import { RecordingConnection } from "../test/recording-connection.js";
import { settle, waitUntil } from "@open-ot/harness";
import { authorLabel } from "./author-label.js";
import { Hub } from "./hub.js";
import type { ConnectOptions, HubSession } from "./hub-types.js";
import { MemoryBackend } from "./memory-backend.js";
import { Server } from "./server.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Client {
  conn: RecordingConnection;
  session: HubSession;
  send(message: Record<string, unknown>): void;
}

/** `hubs` hubs (instances) over one MemoryBackend and its in-process pub/sub, with documents "doc" and "other". */
async function instances(hubs = 1): Promise<{ backend: MemoryBackend; open(connect?: ConnectOptions, instance?: number): Client }> {
  const backend = new MemoryBackend();
  await backend.createDocument("doc", "text", "");
  await backend.createDocument("other", "text", "");
  const all = Array.from({ length: hubs }, () => {
    const hub = new Hub({ server: new Server(backend) });
    closers.push(() => hub.close());
    return hub;
  });
  return {
    backend,
    open(connect = {}, instance = 0) {
      const conn = new RecordingConnection();
      const session = all[instance]!.connect(conn, connect);
      return { conn, session, send: (m) => session.receive(JSON.stringify(m)) };
    },
  };
}

async function join(client: Client, clientId: string | undefined, docId = "doc"): Promise<ServerMessage> {
  client.send({ type: "join", docId, ...(clientId === undefined ? {} : { clientId }) });
  return client.conn.next(`the answer to ${clientId ?? "an anonymous"} join of ${docId}`);
}

describe("Hub: author labels instead of clientIds", () => {
  it("tells a joining client its own author, and shows others that author on its ops, never its clientId", async () => {
    const { open } = await instances();
    const alice = open();
    const bob = open();
    const aliceJoin = await join(alice, "alice_secret_0123456789");
    expect(aliceJoin).toMatchObject({ type: "snapshot", author: authorLabel("doc", "alice_secret_0123456789") });
    bob.send({ type: "join", docId: "doc", clientId: "bob_secret_01234567890", revision: 0 });
    expect(await bob.conn.next()).toEqual({
      type: "joined",
      docId: "doc",
      revision: 0,
      epoch: expect.any(String),
      author: authorLabel("doc", "bob_secret_01234567890"),
    });
    alice.send({ type: "op", op: [{ i: "x" }], revision: 0, seq: 1 });
    const seen = await bob.conn.next("alice's op");
    expect(seen).toEqual({
      type: "op",
      docId: "doc",
      op: [{ i: "x" }],
      revision: 1,
      author: (aliceJoin as { author: string }).author,
      seq: 1,
    });
    expect(JSON.stringify(bob.conn.messages)).not.toContain("alice_secret");
  });
});

describe("Hub: a clientId is bound to the principal that first commits under it", () => {
  it("refuses another principal's join naming it with forbidden, and the join changes nothing", async () => {
    const { open } = await instances();
    const owner = open({ principal: "alice" });
    await join(owner, "victim-client-0000001");
    owner.send({ type: "op", op: [{ i: "mine" }], revision: 0, seq: 1 });
    await owner.conn.next("the owner's ack");
    const thief = open({ principal: "mallory" });
    expect(await join(thief, "victim-client-0000001")).toMatchObject({ type: "error", code: "forbidden", docId: "doc" });
    // Nothing joined, nothing bound: the thief's op is for a document it has not joined.
    thief.send({ type: "op", docId: "doc", op: [], revision: 1, seq: 9_007_199_254_740_991 });
    expect(await thief.conn.next()).toMatchObject({ type: "error", code: "bad_message" });
    // And the owner's connection was left alone.
    expect(owner.conn.closed).toBeUndefined();
    owner.send({ type: "op", op: [{ r: 4 }, { i: "!" }], revision: 1, seq: 2 });
    expect(await owner.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 2, seq: 2 });
  });

  it("refuses another principal's op under it with forbidden, even when the join came first, and commits the owner's edits", async () => {
    const { open, backend } = await instances();
    const owner = open({ principal: "alice" });
    const thief = open({ principal: "mallory" });
    await join(owner, "victim-client-0000001");
    // The thief joins before the owner's first commit, when nothing is bound yet.
    await join(thief, "victim-client-0000001", "doc");
    owner.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    await waitUntil(() => owner.conn.messages.some((m) => m.type === "ack"), "the owner's ack");
    thief.send({ type: "op", op: [], revision: 1, seq: 9_007_199_254_740_991 });
    await waitUntil(() => thief.conn.messages.some((m) => m.type === "error"), "the thief's refusal");
    expect(thief.conn.messages.find((m) => m.type === "error")).toMatchObject({ code: "forbidden", seq: 9_007_199_254_740_991 });
    owner.send({ type: "op", op: [{ r: 1 }, { i: "b" }], revision: 1, seq: 2 });
    await waitUntil(() => owner.conn.messages.filter((m) => m.type === "ack").length === 2, "the owner's second ack");
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 2, data: "ab" });
  });

  it("answers another principal's invalid copy of a committed op with forbidden, not as a silent duplicate", async () => {
    const { open } = await instances();
    const owner = open({ principal: "alice" });
    await join(owner, "victim-client-0000001");
    owner.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    await owner.conn.next("the owner's ack");
    // A connection joined without a clientId names the owner's in an op: a garbage copy of seq 1.
    const thief = open({ principal: "mallory" });
    await join(thief, undefined);
    thief.send({ type: "op", op: "garbage", revision: 1, seq: 1, clientId: "victim-client-0000001" });
    expect(await thief.conn.next()).toMatchObject({ type: "error", code: "forbidden", seq: 1 });
  });

  it("binds nothing without authentication", async () => {
    const { open, backend } = await instances();
    const first = open();
    await join(first, "shared-client-000001");
    first.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    await first.conn.next("the ack");
    await expect(backend.getClientPrincipal("doc", "shared-client-000001")).resolves.toBeUndefined();
  });
});

describe("Hub: ops without a seq", () => {
  it("ack only their own connection: the named client's other connection gets them as op, never as an ack without seq", async () => {
    const { open } = await instances();
    const victim = open();
    await join(victim, "victim-client-0000001");
    // A root-path connection naming the victim's clientId, with no seq (nothing to de-duplicate).
    const legacy = open({ autoJoin: "doc" });
    legacy.send({ type: "op", op: [{ i: "x" }], revision: 0, clientId: "victim-client-0000001" });
    expect(await legacy.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1 });
    expect(await victim.conn.next()).toEqual({ type: "op", docId: "doc", op: [{ i: "x" }], revision: 1 });
  });
});

describe("Hub: seq jumps", () => {
  it("refuses a seq more than maxSeqJump above the client's last committed one with bad_message, changing nothing", async () => {
    const backend = new MemoryBackend();
    await backend.createDocument("doc", "text", "");
    const hub = new Hub({ server: new Server(backend, { maxSeqJump: 100 }) });
    closers.push(() => hub.close());
    const conn = new RecordingConnection();
    const session = hub.connect(conn);
    const send = (m: Record<string, unknown>): void => session.receive(JSON.stringify(m));
    send({ type: "join", docId: "doc", clientId: "jumper-00000000001" });
    await conn.next("the snapshot");
    send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 5 });
    expect(await conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 5 });
    send({ type: "op", op: [{ r: 1 }, { i: "b" }], revision: 1, seq: 9_007_199_254_740_991 });
    expect(await conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "doc", seq: 9_007_199_254_740_991 });
    send({ type: "op", op: [{ r: 1 }, { i: "b" }], revision: 1, seq: 106 });
    expect(await conn.next()).toMatchObject({ type: "error", code: "bad_message", seq: 106 });
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 1, data: "a" });
    send({ type: "op", op: [{ r: 1 }, { i: "b" }], revision: 1, seq: 105 });
    expect(await conn.next()).toEqual({ type: "ack", docId: "doc", revision: 2, seq: 105 });
  });
});

describe("Hub: one connection per client and document", () => {
  it("closes the older connection with 4009 when a newer one of its client joins the document; the newer works on", async () => {
    const { open } = await instances();
    const old = open();
    await join(old, "client-0000000000001");
    const fresh = open();
    await join(fresh, "client-0000000000001");
    expect(old.conn.closed).toEqual({ code: CloseCode.SUPERSEDED, reason: expect.stringMatching(/newer connection/) as unknown });
    fresh.send({ type: "op", op: [{ i: "x" }], revision: 0, seq: 1 });
    expect(await fresh.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 1 });
    expect(fresh.conn.closed).toBeUndefined();
  });

  it("leaves a client's connections to other documents, other clients, and other principals alone", async () => {
    const { open } = await instances();
    const onOther = open({ principal: "alice" });
    await join(onOther, "client-0000000000001", "other");
    const otherClient = open({ principal: "alice" });
    await join(otherClient, "client-0000000000002");
    const otherPrincipal = open({ principal: "mallory" });
    await join(otherPrincipal, "client-0000000000001");
    const fresh = open({ principal: "alice" });
    await join(fresh, "client-0000000000001");
    await settle();
    expect([onOther, otherClient, otherPrincipal, fresh].map((c) => c.conn.closed)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("closes an older connection that joins after the newer one, itself, without an answer", async () => {
    const { open } = await instances();
    const old = open();
    const fresh = open();
    await join(fresh, "client-0000000000001");
    old.send({ type: "join", docId: "doc", clientId: "client-0000000000001" });
    await old.session.idle();
    expect(old.conn.closed).toMatchObject({ code: CloseCode.SUPERSEDED });
    expect(old.conn.messages).toEqual([]);
    expect(fresh.conn.closed).toBeUndefined();
  });

  it("closes the older connection on another instance, whichever joined first", async () => {
    const { open } = await instances(2);
    const old = open({}, 0);
    await join(old, "client-0000000000001");
    const fresh = open({}, 1);
    await join(fresh, "client-0000000000001");
    await waitUntil(() => old.conn.closed !== undefined, "the older connection's close");
    expect(old.conn.closed).toMatchObject({ code: CloseCode.SUPERSEDED });

    // The older one joining last is closed too: the newer one's instance answers its notice.
    const older = open({}, 0);
    const newer = open({}, 1);
    await join(newer, "client-0000000000002");
    await join(older, "client-0000000000002");
    await waitUntil(() => older.conn.closed !== undefined, "the older connection's close");
    expect(older.conn.closed).toMatchObject({ code: CloseCode.SUPERSEDED });
    expect([fresh, newer].map((c) => c.conn.closed)).toEqual([undefined, undefined]);
  });
});
