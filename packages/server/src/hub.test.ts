import type { ServerMessage } from "@open-ot/core";
import { afterEach, describe, expect, it } from "vitest";
import { HeldPubSub } from "../test/held-pub-sub.js";
import { RecordingConnection } from "../test/recording-connection.js";
import { settle, waitUntil } from "@open-ot/harness";
import type { CommitNotice, IBackendAdapter } from "./backend.js";
import { authorLabel } from "./author-label.js";
import { Hub, type HubOptions } from "./hub.js";
import type { ConnectOptions, HubSession } from "./hub-types.js";
import { InProcessPubSub } from "./in-process-pub-sub.js";
import { MemoryBackend } from "./memory-backend.js";
import { Server } from "./server.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Client {
  conn: RecordingConnection;
  session: HubSession;
  /** Send a message (objects are JSON-encoded, strings sent as they are). */
  send(message: unknown): void;
}

async function setup(
  options: {
    text?: string;
    historyLimit?: number;
    dropIf?: (channel: string, message: CommitNotice) => boolean;
    backend?: (memory: MemoryBackend) => IBackendAdapter;
    hub?: Partial<HubOptions>;
  } = {},
): Promise<{ backend: MemoryBackend; server: Server; hub: Hub; open(connect?: ConnectOptions): Client }> {
  const pubsub = new InProcessPubSub(options.dropIf ? { dropIf: options.dropIf } : {});
  const backend = new MemoryBackend({ pubsub, ...(options.historyLimit ? { historyLimit: options.historyLimit } : {}) });
  await backend.createDocument("doc", "text", options.text ?? "");
  const server = new Server(options.backend ? options.backend(backend) : backend);
  const hub = new Hub({ server, pubsub, ...options.hub });
  closers.push(() => hub.close());
  return {
    backend,
    server,
    hub,
    open(connect) {
      const conn = new RecordingConnection();
      const session = hub.connect(conn, connect);
      return { conn, session, send: (m) => session.receive(typeof m === "string" ? m : JSON.stringify(m)) };
    },
  };
}

async function expectDoc(backend: MemoryBackend, revision: number, text: string, docId = "doc"): Promise<void> {
  await expect(backend.getRecord(docId)).resolves.toMatchObject({ v: revision, data: text });
}

/** Join `doc` (from a snapshot) and read the snapshot. */
async function joined(client: Client, extra: Record<string, unknown> = {}, docId = "doc"): Promise<ServerMessage> {
  client.send({ type: "join", docId, ...extra });
  const first = await client.conn.next(`the answer to the join of ${docId}`);
  expect(["snapshot", "joined"]).toContain(first.type);
  return first;
}

describe("Hub: joining", () => {
  it("answers a join without revision with the snapshot", async () => {
    const { open } = await setup({ text: "hello" });
    const alice = open();
    expect(await joined(alice, { clientId: "alice" })).toEqual({
      type: "snapshot",
      docId: "doc",
      revision: 0,
      data: "hello",
      docType: "text",
      epoch: expect.any(String),
      author: authorLabel("doc", "alice"),
    });
  });

  it("puts the joining client's last committed seq in the snapshot", async () => {
    const { open } = await setup();
    const alice = open();
    await joined(alice, { clientId: "alice" });
    alice.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    alice.send({ type: "op", op: [{ r: 1 }, { i: "b" }], revision: 1, seq: 2 });
    await alice.conn.take(2, "two acks");
    const again = open();
    expect(await joined(again, { clientId: "alice" })).toEqual({
      type: "snapshot",
      docId: "doc",
      revision: 2,
      data: "ab",
      docType: "text",
      lastSeq: 2,
      epoch: expect.any(String),
      author: authorLabel("doc", "alice"),
    });
    // Another client has none.
    expect(await joined(open(), { clientId: "bob" })).not.toHaveProperty("lastSeq");
  });

  it("keeps the snapshot's lastSeq consistent with its revision when a commit lands during the join", async () => {
    let sneakIn: (() => Promise<void>) | undefined;
    const { open, backend } = await setup({
      backend: (memory) =>
        Object.assign(Object.create(memory) as IBackendAdapter, {
          getLastSeq: async (docId: string, clientId: string) => {
            const seq = await memory.getLastSeq(docId, clientId);
            // Alice's next op commits after her seq was read, before the snapshot is.
            const commit = sneakIn;
            sneakIn = undefined;
            await commit?.();
            return seq;
          },
        }),
    });
    const other = new Server(backend);
    await other.submitOperation("doc", [{ i: "a" }], 0, { clientId: "alice", seq: 1 });
    sneakIn = async () => {
      await other.submitOperation("doc", [{ r: 1 }, { i: "b" }], 1, { clientId: "alice", seq: 2 });
    };
    const c = open();
    expect(await joined(c, { clientId: "alice" })).toEqual({
      type: "snapshot",
      docId: "doc",
      revision: 2,
      data: "ab",
      docType: "text",
      lastSeq: 2,
      epoch: expect.any(String),
      author: authorLabel("doc", "alice"),
    });
  });

  it("answers a join with revision L with joined L, then the ops after L (own ones as ack), then live traffic", async () => {
    const { open } = await setup();
    const alice = open();
    const bob = open();
    await joined(alice, { clientId: "alice" });
    await joined(bob, { clientId: "bob" });
    alice.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    await alice.conn.next("ack 1");
    bob.send({ type: "op", op: [{ r: 1 }, { i: "b" }], revision: 1, seq: 1 });
    await bob.conn.take(2, "op 1 and ack 2");
    alice.send({ type: "op", op: [{ r: 2 }, { i: "c" }], revision: 2, seq: 2 });
    await alice.conn.take(2, "op 2 and ack 3");

    const resumed = open();
    resumed.send({ type: "join", docId: "doc", clientId: "alice", revision: 1 });
    expect(await resumed.conn.take(3)).toEqual([
      { type: "joined", docId: "doc", revision: 1, epoch: expect.any(String), author: authorLabel("doc", "alice") },
      { type: "op", docId: "doc", op: [{ r: 1 }, { i: "b" }], revision: 2, author: authorLabel("doc", "bob"), seq: 1 },
      { type: "ack", docId: "doc", revision: 3, seq: 2 },
    ]);
    bob.send({ type: "op", op: [{ i: "!" }], revision: 3, seq: 2 });
    expect(await resumed.conn.next("live op")).toEqual({
      type: "op",
      docId: "doc",
      op: [{ i: "!" }],
      revision: 4,
      author: authorLabel("doc", "bob"),
      seq: 2,
    });
  });

  it("answers a snapshot instead when the ops after L are no longer kept", async () => {
    const { open, server } = await setup({ historyLimit: 2 });
    for (let r = 0; r < 5; r++) await server.submitOperation("doc", [{ i: `${r}` }], r, { clientId: "alice", seq: r + 1 });
    const alice = open();
    alice.send({ type: "join", docId: "doc", clientId: "alice", revision: 1 });
    expect(await alice.conn.next()).toEqual({
      type: "snapshot",
      docId: "doc",
      revision: 5,
      data: "43210",
      docType: "text",
      lastSeq: 5,
      epoch: expect.any(String),
      author: authorLabel("doc", "alice"),
    });
    // The oldest kept revision's predecessor can still be replayed.
    const bob = open();
    bob.send({ type: "join", docId: "doc", revision: 3 });
    expect((await bob.conn.take(3)).map((m) => [m.type, "revision" in m ? m.revision : undefined])).toEqual([
      ["joined", 3],
      ["op", 4],
      ["op", 5],
    ]);
  });

  it("refuses a join from the future, of an unknown document, or with bad fields, changing nothing", async () => {
    const { open, backend } = await setup({ text: "x" });
    const c = open();
    c.send({ type: "join", docId: "doc", revision: 1 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_revision", docId: "doc" });
    c.send({ type: "join", docId: "nope" });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "not_found", docId: "nope" });
    // not_found is judged before the revision.
    c.send({ type: "join", docId: "nope", revision: null });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "not_found", docId: "nope" });
    c.send({ type: "join", docId: "doc", revision: null });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_revision", docId: "doc" });
    c.send({ type: "join", docId: "doc", batch: "yes" });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "doc" });
    c.send({ type: "join" });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message" });
    await expect(backend.getRecord("nope")).rejects.toMatchObject({ name: "DocumentNotFoundError" });
    await expectDoc(backend, 0, "x");
    // None of these joined anything: an op is for a document not joined.
    c.send({ type: "op", op: [], revision: 0 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message" });
  });

  it("creates a document on a valid join when createOnJoin is set, and only then", async () => {
    const { open, backend } = await setup({ hub: { createOnJoin: true } });
    const c = open();
    c.send({ type: "join", docId: "later", revision: 3 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_revision", docId: "later" });
    c.send({ type: "join", docId: "later", revision: -1 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_revision", docId: "later" });
    await expect(backend.getRecord("later")).rejects.toMatchObject({ name: "DocumentNotFoundError" });
    c.send({ type: "join", docId: "fresh" });
    expect(await c.conn.next()).toEqual({
      type: "snapshot",
      docId: "fresh",
      revision: 0,
      data: "",
      docType: "text",
      epoch: expect.any(String),
    });
    c.send({ type: "join", docId: "fresh0", revision: 0 });
    expect(await c.conn.next()).toEqual({ type: "joined", docId: "fresh0", revision: 0, epoch: expect.any(String) });
    await expect(backend.getRecord("fresh")).resolves.toEqual({ type: "text", v: 0, data: "" });
  });

  it("replaces an earlier join of the same document: from its answer on, every revision once", async () => {
    const { open, server } = await setup();
    const c = open();
    await joined(c, { clientId: "carol" });
    for (let r = 0; r < 3; r++) await server.submitOperation("doc", [{ i: `${r}` }], r, { clientId: "dave", seq: r + 1 });
    await c.conn.take(3, "three ops");
    c.send({ type: "join", docId: "doc", revision: 1 });
    const answer = await c.conn.take(3);
    expect(answer.map((m) => [m.type, "revision" in m ? m.revision : undefined])).toEqual([
      ["joined", 1],
      ["op", 2],
      ["op", 3],
    ]);
    await server.submitOperation("doc", [{ i: "3" }], 3, { clientId: "dave", seq: 4 });
    expect(await c.conn.next()).toMatchObject({ type: "op", revision: 4 });
    // A second, earlier feed would have produced a repeat of 4 (or of 2-3) by now.
    await server.submitOperation("doc", [{ i: "4" }], 4, { clientId: "dave", seq: 5 });
    expect(await c.conn.next()).toMatchObject({ type: "op", revision: 5 });
    expect(c.conn.unread()).toEqual([]);
  });

  it("a refused re-join keeps the earlier join", async () => {
    const { open, server } = await setup();
    const c = open();
    await joined(c);
    c.send({ type: "join", docId: "doc", revision: 99 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_revision" });
    await server.submitOperation("doc", [{ i: "x" }], 0);
    expect(await c.conn.next()).toMatchObject({ type: "op", revision: 1 });
  });

  it("stops delivering a document after leave", async () => {
    const { open, server, backend, hub } = await setup();
    await backend.createDocument("other", "text", "");
    const c = open();
    await joined(c);
    await joined(c, {}, "other");
    expect(hub.documentCount).toBe(2);
    c.send({ type: "leave", docId: "doc" });
    c.send({ type: "leave", docId: "never-joined" });
    await c.session.idle();
    expect(hub.documentCount).toBe(1);
    await server.submitOperation("doc", [{ i: "x" }], 0);
    await server.submitOperation("other", [{ i: "y" }], 0);
    // In-process pub/sub delivers in publish order: the left document's op would come first.
    expect(await c.conn.next()).toMatchObject({ type: "op", docId: "other", revision: 1 });
    c.send({ type: "op", docId: "doc", op: [], revision: 1 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "doc" });
  });
});

describe("Hub: ops", () => {
  it("acks the submitter (with seq) and sends the op to the others (with its author, never its clientId), in revision order", async () => {
    const { open, backend } = await setup();
    const alice = open();
    const bob = open();
    await joined(alice, { clientId: "alice" });
    await joined(bob, { clientId: "bob" });
    alice.send({ type: "op", docId: "doc", op: [{ i: "hi" }], revision: 0, seq: 1, clientId: "alice" });
    expect(await alice.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 1 });
    expect(await bob.conn.next()).toEqual({
      type: "op",
      docId: "doc",
      op: [{ i: "hi" }],
      revision: 1,
      author: authorLabel("doc", "alice"),
      seq: 1,
    });
    // Concurrent ops: bob's is based on 0 and comes back transformed.
    bob.send({ type: "op", op: [{ i: "yo" }], revision: 0, seq: 1 });
    expect(await bob.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 2, seq: 1 });
    expect(await alice.conn.next()).toEqual({
      type: "op",
      docId: "doc",
      op: [{ r: 2 }, { i: "yo" }],
      revision: 2,
      author: authorLabel("doc", "bob"),
      seq: 1,
    });
    await expectDoc(backend, 2, "hiyo");
  });

  it("never acks before an op with a lower revision (acks travel the delivery path)", async () => {
    // Commits from another instance reach this one late: its own ack must wait for them.
    const { open, backend } = await setup();
    const alice = open();
    await joined(alice, { clientId: "alice" });
    const other = new Server(backend);
    for (let r = 0; r < 5; r++) await other.submitOperation("doc", [{ i: "o" }], r, { clientId: "olga", seq: r + 1 });
    alice.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    const got = await alice.conn.take(6);
    expect(got.map((m) => `${m.type}:${"revision" in m ? m.revision : ""}`)).toEqual(["op:1", "op:2", "op:3", "op:4", "op:5", "ack:6"]);
  });

  it("drops a duplicate (clientId, seq) silently, wherever it comes from", async () => {
    const { open, backend } = await setup();
    const first = open();
    await joined(first, { clientId: "alice" });
    first.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    expect(await first.conn.next()).toMatchObject({ type: "ack", revision: 1, seq: 1 });
    first.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    // Over another connection too, even with a garbage op or an old base.
    const second = open();
    second.send({ type: "join", docId: "doc", clientId: "alice", revision: 1 });
    expect(await second.conn.next()).toEqual({
      type: "joined",
      docId: "doc",
      revision: 1,
      epoch: expect.any(String),
      author: authorLabel("doc", "alice"),
    });
    // The newer connection of alice replaced the first.
    expect(first.conn.closed).toEqual({ code: 4009, reason: expect.stringMatching(/newer connection/) });
    second.send({ type: "op", op: "garbage", revision: 0, seq: 1 });
    second.send({ type: "op", op: [{ r: 1 }, { i: "b" }], revision: 1, seq: 2 });
    expect(await second.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 2, seq: 2 });
    expect(first.conn.unread()).toEqual([]);
    expect(second.conn.unread()).toEqual([]);
    await expectDoc(backend, 2, "ab");
  });

  it("binds the connection to the first clientId an accepted join or op names", async () => {
    const { open, backend } = await setup();
    const c = open();
    // A refused join does not bind.
    c.send({ type: "join", docId: "missing", clientId: "ghost" });
    expect(await c.conn.next()).toMatchObject({ code: "not_found" });
    await joined(c, { clientId: "carol" });
    c.send({ type: "op", op: [{ i: "x" }], revision: 0, seq: 1, clientId: "mallory" });
    expect(await c.conn.next()).toEqual({
      type: "error",
      code: "bad_message",
      message: expect.stringContaining("carol") as string,
      docId: "doc",
      seq: 1,
    });
    c.send({ type: "join", docId: "doc", clientId: "mallory" });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "doc" });
    // Another clientId is a shape problem: it wins over a bad revision.
    c.send({ type: "op", op: [], revision: -1, seq: 1, clientId: "mallory" });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "doc", seq: 1 });
    c.send({ type: "join", docId: "doc", revision: null, clientId: "mallory" });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "doc" });
    // Messages naming none are taken as carol's.
    c.send({ type: "op", op: [{ i: "x" }], revision: 0, seq: 1 });
    expect(await c.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 1 });
    await expect(backend.getLastSeq("doc", "carol")).resolves.toBe(1);
    // Other message types ignore the field.
    c.send({ type: "ping", t: 1, clientId: "mallory" });
    expect(await c.conn.next()).toEqual({ type: "pong", t: 1 });
  });

  it("binds on an accepted op, not on a refused one", async () => {
    const { open } = await setup();
    const c = open();
    await joined(c);
    c.send({ type: "op", op: "bad", revision: 0, seq: 1, clientId: "first" });
    expect(await c.conn.next()).toMatchObject({ code: "invalid_op", seq: 1 });
    c.send({ type: "op", op: [{ i: "x" }], revision: 0, seq: 1, clientId: "second" });
    expect(await c.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 1 });
    c.send({ type: "op", op: [{ i: "x" }], revision: 1, seq: 2, clientId: "first" });
    expect(await c.conn.next()).toMatchObject({ code: "bad_message" });
  });

  it("acks a connection without a clientId (no seq, no de-duplication) and hides its internal id from others", async () => {
    const { open, backend } = await setup();
    const anon = open();
    const bob = open();
    await joined(anon);
    await joined(bob, { clientId: "bob" });
    anon.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    expect(await anon.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1 });
    expect(await bob.conn.next()).toEqual({ type: "op", docId: "doc", op: [{ i: "a" }], revision: 1 });
    anon.send({ type: "op", op: [{ i: "a" }], revision: 1, seq: 1 });
    expect(await anon.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 2 });
    await expectDoc(backend, 2, "aa");
  });

  it("needs the op's document to be joined, and its docId when several are", async () => {
    const { open, backend } = await setup();
    await backend.createDocument("other", "text", "");
    const c = open();
    c.send({ type: "op", op: [], revision: 0 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message" });
    await joined(c);
    await joined(c, {}, "other");
    c.send({ type: "op", op: [], revision: 0, seq: 4 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message", seq: 4 });
    c.send({ type: "op", docId: "third", op: [], revision: 0 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "third" });
    // An unjoined document is bad_message even when the revision is bad too.
    c.send({ type: "op", docId: "third", op: [], revision: -1 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "third" });
    c.send({ type: "op", docId: "other", op: [{ i: "o" }], revision: 0 });
    expect(await c.conn.next()).toEqual({ type: "ack", docId: "other", revision: 1 });
  });

  it("answers ping with pong carrying the same t", async () => {
    const { open } = await setup();
    const c = open();
    c.send({ type: "ping", t: 42 });
    c.send({ type: "ping", t: "abc" });
    c.send({ type: "ping" });
    expect(await c.conn.take(3)).toEqual([{ type: "pong", t: 42 }, { type: "pong", t: "abc" }, { type: "pong" }]);
  });
});

/**
 * Instances sharing one MemoryBackend, each with its own Server and Hub, and its own view of
 * the pub/sub whose notices a test can hold back or lose, as with a Redis subscriber.
 */
async function instances(
  count: number,
  hub: Partial<HubOptions> = {},
): Promise<{
  backend: MemoryBackend;
  views: HeldPubSub[];
  open(instance: number): Client;
}> {
  const inner = new InProcessPubSub();
  const backend = new MemoryBackend({ pubsub: inner });
  await backend.createDocument("doc", "text", "");
  const hubs = Array.from({ length: count }, () => {
    const view = new HeldPubSub(inner);
    const h = new Hub({ server: new Server(backend), pubsub: view, ...hub });
    closers.push(
      () => view.close(),
      () => h.close(),
    );
    return { hub: h, view };
  });
  return {
    backend,
    views: hubs.map((h) => h.view),
    open(instance) {
      const conn = new RecordingConnection();
      const session = (hubs[instance] as { hub: Hub }).hub.connect(conn);
      return { conn, session, send: (m) => session.receive(typeof m === "string" ? m : JSON.stringify(m)) };
    },
  };
}

/** Alice joined on instance 0 and bob on the last of `count` instances (see {@link instances}). */
async function aliceAndBob(
  count: number,
  hub: Partial<HubOptions> = {},
): Promise<{ backend: MemoryBackend; views: HeldPubSub[]; alice: Client; bob: Client }> {
  const { backend, views, open } = await instances(count, hub);
  const alice = open(0);
  const bob = open(count - 1);
  await joined(alice, { clientId: "alice" });
  await joined(bob, { clientId: "bob" });
  return { backend, views, alice, bob };
}

function summary(messages: ServerMessage[]): string[] {
  return messages.map((m) => `${m.type}:${"revision" in m ? m.revision : ""}`);
}

describe("Hub: own commits without waiting for their notice", () => {
  it("acks an own commit (and relays it on this instance) before its notice arrives, and never twice", async () => {
    const { backend, views, alice, bob } = await aliceAndBob(1);
    const view = views[0] as HeldPubSub;
    view.hold();
    alice.send({ type: "op", docId: "doc", op: [{ i: "hi" }], revision: 0, seq: 1 });
    expect(await alice.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 1 });
    expect(await bob.conn.next()).toEqual({
      type: "op",
      docId: "doc",
      op: [{ i: "hi" }],
      revision: 1,
      author: authorLabel("doc", "alice"),
      seq: 1,
    });
    expect(view.heldCount).toBe(1); // the notice had not arrived
    expect(view.delivered).toBe(0);
    view.release();
    await settle();
    expect(view.delivered).toBe(1);
    expect(alice.conn.unread()).toEqual([]);
    expect(bob.conn.unread()).toEqual([]);
    // And on with the notices arriving normally.
    bob.send({ type: "op", op: [{ r: 2 }, { i: "!" }], revision: 1, seq: 1 });
    expect(await bob.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 2, seq: 1 });
    expect(await alice.conn.next()).toMatchObject({ type: "op", revision: 2, author: authorLabel("doc", "bob") });
    await settle();
    expect(alice.conn.unread()).toEqual([]);
    expect(bob.conn.unread()).toEqual([]);
    await expectDoc(backend, 2, "hi!");
  });

  it("acks a connection without a clientId at once too", async () => {
    const { views, open } = await instances(1);
    const anon = open(0);
    await joined(anon);
    (views[0] as HeldPubSub).hold();
    anon.send({ type: "op", op: [{ i: "x" }], revision: 0 });
    expect(await anon.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1 });
  });

  /**
   * Alice (instance 0) commits revision 1; bob (instance 1), whose notices are held, commits an
   * op based on 0 as revision 2, ahead of revision 1 on his instance.
   */
  async function bobAhead(
    lostNoticeDelayMs: number,
  ): Promise<{ alice: Client; bob: Client; bobsView: HeldPubSub; backend: MemoryBackend }> {
    const { backend, views, alice, bob } = await aliceAndBob(2, { sequencer: { lostNoticeDelayMs } });
    const bobsView = views[1] as HeldPubSub;
    bobsView.hold();
    alice.send({ type: "op", op: [{ i: "a" }], revision: 0, seq: 1 });
    expect(await alice.conn.next()).toMatchObject({ type: "ack", revision: 1 });
    bob.send({ type: "op", op: [{ i: "b" }], revision: 0, seq: 1 });
    await bob.session.idle();
    await settle();
    return { alice, bob, bobsView, backend };
  }

  it("holds an own commit's ack until the other instance's lower commit has arrived", async () => {
    const { alice, bob, bobsView, backend } = await bobAhead(60_000);
    await expectDoc(backend, 2, "ab");
    expect(bob.conn.unread()).toEqual([]);
    bobsView.release();
    expect(summary(await bob.conn.take(2))).toEqual(["op:1", "ack:2"]);
    expect(await alice.conn.next()).toMatchObject({ type: "op", revision: 2, author: authorLabel("doc", "bob") });
    await settle();
    expect(bob.conn.unread()).toEqual([]);
    expect(alice.conn.unread()).toEqual([]);
  });

  it("reads the lower commit from history when its notice is lost, then acks", async () => {
    const { bob, bobsView } = await bobAhead(5);
    bobsView.discardHeld();
    bobsView.release();
    expect(summary(await bob.conn.take(2))).toEqual(["op:1", "ack:2"]);
    await settle();
    expect(bob.conn.unread()).toEqual([]);
  });
});

/** A MemoryBackend whose armed commit is applied and then reported as failed (its outcome unknown to the server). */
class CommitsThenFails extends MemoryBackend {
  failNext = false;

  override async commit(...args: Parameters<MemoryBackend["commit"]>): ReturnType<MemoryBackend["commit"]> {
    const result = await super.commit(...args);
    if (this.failNext) {
      this.failNext = false;
      throw new Error("the store applied the commit, then the connection to it failed");
    }
    return result;
  }
}

describe("Hub: a duplicate whose first try's outcome was unknown", () => {
  it("acks it from history when the first try was answered with an error and its notice was lost", async () => {
    const inner = new InProcessPubSub();
    const backend = new CommitsThenFails({ pubsub: inner });
    await backend.createDocument("doc", "text", "");
    const view = new HeldPubSub(inner);
    const hub = new Hub({ server: new Server(backend), pubsub: view, sequencer: { lostNoticeDelayMs: 5 } });
    closers.push(
      () => view.close(),
      () => hub.close(),
    );
    const conn = new RecordingConnection();
    const session = hub.connect(conn);
    const alice: Client = { conn, session, send: (m) => session.receive(typeof m === "string" ? m : JSON.stringify(m)) };
    await joined(alice, { clientId: "alice" });

    view.hold();
    backend.failNext = true;
    alice.send({ type: "op", docId: "doc", op: [{ i: "x" }], revision: 0, seq: 1 });
    expect(await alice.conn.next()).toMatchObject({ type: "error", code: "internal", seq: 1 });
    await expectDoc(backend, 1, "x");
    // The commit's notice is lost, and nothing else is committed that would reveal it.
    view.discardHeld();
    view.release();
    // Sent again without rejoining first: a duplicate, answered only by the original's ack.
    alice.send({ type: "op", docId: "doc", op: [{ i: "x" }], revision: 0, seq: 1 });
    expect(await alice.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 1 });
    await settle();
    expect(alice.conn.unread()).toEqual([]);
  });
});

describe("Hub: root-path connections", () => {
  it("joins the document at its current revision without sending anything, then acks and relays", async () => {
    const { open, server, backend } = await setup({ text: "seed" });
    await server.submitOperation("doc", [{ i: ">" }], 0);
    const legacy = open({ autoJoin: "doc" });
    const modern = open();
    await joined(modern, { clientId: "mod" });
    await legacy.session.idle();
    expect(legacy.conn.messages).toEqual([]);
    legacy.send({ type: "op", op: [{ r: 5 }, { i: "!" }], revision: 1 });
    expect(await legacy.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 2 });
    expect(await modern.conn.next()).toEqual({ type: "op", docId: "doc", op: [{ r: 5 }, { i: "!" }], revision: 2 });
    modern.send({ type: "op", op: [{ i: "<" }], revision: 2, seq: 1 });
    expect(await legacy.conn.next()).toEqual({
      type: "op",
      docId: "doc",
      op: [{ i: "<" }],
      revision: 3,
      author: authorLabel("doc", "mod"),
      seq: 1,
    });
    await expectDoc(backend, 3, "<>seed!");
  });

  it("closes with 4001 after not_found when the document does not exist and is not created on demand", async () => {
    const { open } = await setup();
    const legacy = open({ autoJoin: "missing" });
    expect(await legacy.conn.next()).toMatchObject({ type: "error", code: "not_found", docId: "missing" });
    await waitUntil(() => legacy.conn.closed !== undefined, "the close");
    expect(legacy.conn.closed?.code).toBe(4001);
  });

  it("creates the document when the hub creates on join", async () => {
    const { open, backend } = await setup({ hub: { createOnJoin: true } });
    const legacy = open({ autoJoin: "brand-new" });
    legacy.send({ type: "op", op: [{ i: "x" }], revision: 0 });
    expect(await legacy.conn.next()).toEqual({ type: "ack", docId: "brand-new", revision: 1 });
    await expectDoc(backend, 1, "x", "brand-new");
  });
});

describe("Hub: batching", () => {
  it("sends a batching connection everything due within one turn as one array", async () => {
    const { open, server } = await setup();
    const c = open({ batch: true });
    c.send([
      { type: "ping", t: 1 },
      { type: "join", docId: "nope" },
      { type: "ping", t: 2 },
    ]);
    await c.conn.take(3, "three answers");
    await c.session.idle();
    const arrays = c.conn.frames.filter((f) => Array.isArray(f));
    expect(arrays.length).toBeGreaterThanOrEqual(1);
    expect(c.conn.messages.map((m) => m.type)).toEqual(["pong", "pong", "error"]);
    // Commits published in one turn arrive together.
    await joined(c);
    await Promise.all([0, 1, 2].map((k) => server.submitOperation("doc", [{ i: `${k}` }], 0, { clientId: `w${k}`, seq: 1 })));
    await c.conn.take(3, "three ops");
    const last = c.conn.frames[c.conn.frames.length - 1];
    expect(Array.isArray(last) ? last.map((m) => m.type) : last).toEqual(["op", "op", "op"]);
  });

  it("never sends arrays to a connection that did not opt in; an accepted join with batch: true opts in", async () => {
    const { open, server } = await setup();
    await server.backend.createDocument("other", "text", "");
    const c = open();
    c.send([
      { type: "ping", t: 1 },
      { type: "ping", t: 2 },
    ]);
    await c.conn.take(2);
    // A refused join with batch: true does not opt in.
    c.send({ type: "join", docId: "missing", batch: true });
    await c.conn.next();
    await joined(c, {}, "other");
    await Promise.all([0, 1].map((k) => server.submitOperation("other", [{ i: `${k}` }], 0)));
    await c.conn.take(2);
    expect(c.conn.frames.every((f) => !Array.isArray(f))).toBe(true);
    c.send({ type: "join", docId: "doc", batch: true });
    await c.conn.next();
    await Promise.all([0, 1].map((k) => server.submitOperation("doc", [{ i: `${k}` }], 0)));
    await c.conn.take(2);
    expect(Array.isArray(c.conn.frames[c.conn.frames.length - 1])).toBe(true);
  });
});

describe("Hub: frame pacing (frameHoldMs)", () => {
  /** A writer and a reader, both batching and joined to `doc`, on a hub with `frameHoldMs`. */
  async function writerAndReader(frameHoldMs: number): Promise<{ writer: Client; reader: Client }> {
    const { open } = await setup({ hub: { frameHoldMs } });
    const writer = open({ batch: true });
    const reader = open({ batch: true });
    await joined(writer, { clientId: "writer" });
    await joined(reader, { clientId: "reader" });
    return { writer, reader };
  }

  it("holds other clients' ops for a batching connection but never its own acks", async () => {
    const { writer, reader } = await writerAndReader(300);
    const readerFramesAfterJoin = reader.conn.frames.length;
    // The writer submits one op at a time, each after the ack of the one before: acks are
    // replies to its own messages and come back without waiting for the hold.
    const started = performance.now();
    for (let k = 0; k < 5; k++) {
      writer.send({ type: "op", op: [{ r: k }, { i: "x" }], revision: k, seq: k + 1 });
      expect(await writer.conn.next(`ack ${k + 1}`)).toMatchObject({ type: "ack", revision: k + 1 });
    }
    const acksTook = performance.now() - started;
    // The reader's ops are held: its join answer went out less than 300 ms ago (unless this
    // machine was too slow to tell, in which case there is nothing to assert about holding).
    if (acksTook < 250) expect(reader.conn.frames.length).toBe(readerFramesAfterJoin);
    const ops = await reader.conn.take(5, "the five ops");
    expect(ops.map((m) => (m.type === "op" ? m.revision : m.type))).toEqual([1, 2, 3, 4, 5]);
    // ...and they arrive in fewer frames than ops (one, when the machine kept up).
    expect(reader.conn.frames.length - readerFramesAfterJoin).toBeLessThan(5);
  });

  it("frameHoldMs 0 sends a batching connection each turn's ops at the end of that turn", async () => {
    const { writer, reader } = await writerAndReader(0);
    writer.send({ type: "op", op: [{ i: "x" }], revision: 0, seq: 1 });
    await writer.conn.next("the ack");
    // The op reached the reader in the same turn as the ack reached the writer.
    expect(reader.conn.unread()).toEqual([
      { type: "op", docId: "doc", op: [{ i: "x" }], revision: 1, author: authorLabel("doc", "writer"), seq: 1 },
    ]);
  });

  it("refuses a negative frameHoldMs", async () => {
    const pubsub = new InProcessPubSub();
    const server = new Server(new MemoryBackend({ pubsub }));
    expect(() => new Hub({ server, pubsub, frameHoldMs: -1 })).toThrow(/frameHoldMs/);
  });
});

describe("Hub: bad input", () => {
  it("answers every kind of bad input with the protocol's code and leaves the document unchanged", async () => {
    const { open, backend } = await setup({ text: "a😀b" });
    const c = open();
    await joined(c, { clientId: "tester" });
    const cases: [unknown, string][] = [
      ["{not json", "bad_message"],
      ["", "bad_message"],
      ["42", "bad_message"],
      ['"a string"', "bad_message"],
      [JSON.stringify(JSON.stringify({ type: "ping" })), "bad_message"],
      ["null", "bad_message"],
      ["[1]", "bad_message"],
      [{ type: "shout" }, "bad_message"],
      [{ no: "type" }, "bad_message"],
      [{ type: "op", revision: 0 }, "bad_message"],
      [{ type: "op", op: [] }, "bad_message"],
      [{ type: "op", op: [], revision: 0, seq: 0 }, "bad_message"],
      [{ type: "op", op: [], revision: 0, seq: "1" }, "bad_message"],
      [{ type: "op", op: [], revision: 0, clientId: "bad id!" }, "bad_message"],
      [{ type: "op", op: [], revision: 0, docId: "../x" }, "bad_message"],
      [{ type: "join", docId: "a*b" }, "bad_message"],
      [{ type: "join", docId: "{x}" }, "bad_message"],
      [{ type: "join", docId: "" }, "bad_message"],
      [{ type: "join", docId: "x".repeat(10_000) }, "bad_message"],
      [{ type: "join", docId: 5 }, "bad_message"],
      [{ type: "leave" }, "bad_message"],
      [{ type: "op", op: [], revision: 1 }, "bad_revision"],
      [{ type: "op", op: [], revision: -1 }, "bad_revision"],
      [{ type: "op", op: [], revision: null }, "bad_revision"],
      [{ type: "op", op: [], revision: "0" }, "bad_revision"],
      [{ type: "op", op: "insert x", revision: 0 }, "invalid_op"],
      [{ type: "op", op: [{ x: 1 }], revision: 0 }, "invalid_op"],
      [{ type: "op", op: [{ r: -1 }], revision: 0 }, "invalid_op"],
      [{ type: "op", op: [{ r: 5 }], revision: 0 }, "invalid_op"],
      [{ type: "op", op: [{ d: 1.5 }], revision: 0 }, "invalid_op"],
      [{ type: "op", op: [{ r: 2 }, { d: 1 }], revision: 0 }, "invalid_op"],
      [{ type: "op", op: [{ i: "\udc00" }], revision: 0 }, "invalid_op"],
      [`${"[".repeat(100_000)}${"]".repeat(100_000)}`, "bad_message"],
      [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "bad_message"],
    ];
    for (const [input, code] of cases) {
      c.session.receive(typeof input === "string" || input instanceof Uint8Array ? input : JSON.stringify(input));
      const answer = await c.conn.next(`the answer to ${(JSON.stringify(input) ?? "undefined").slice(0, 60)}`);
      expect({ input: (JSON.stringify(input) ?? "undefined").slice(0, 60), answer }).toMatchObject({
        answer: { type: "error", code },
      });
      expect((answer as { message: string }).message.length).toBeGreaterThan(10);
      await expectDoc(backend, 0, "a😀b");
    }
    // An error about an op carries its seq when it had a valid one.
    c.send({ type: "op", op: "bad", revision: 0, seq: 7 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "invalid_op", docId: "doc", seq: 7 });
    // And the connection still works.
    c.send({ type: "op", op: [{ r: 4 }, { i: "!" }], revision: 0, seq: 8 });
    expect(await c.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 8 });
    await expectDoc(backend, 1, "a😀b!");
  });

  it("answers internal when the backend fails, leaves the document as it was, and keeps serving", async () => {
    let failCommits = true;
    const { open, backend } = await setup({
      backend: (memory) =>
        Object.assign(Object.create(memory) as IBackendAdapter, {
          commit: (docId: string, request: Parameters<IBackendAdapter["commit"]>[1]) =>
            failCommits ? Promise.reject(new Error("storage down (simulated)")) : memory.commit(docId, request),
        }),
    });
    const c = open();
    await joined(c, { clientId: "c" });
    c.send({ type: "op", op: [{ i: "x" }], revision: 0, seq: 1 });
    expect(await c.conn.next()).toMatchObject({ type: "error", code: "internal", docId: "doc", seq: 1 });
    await expectDoc(backend, 0, "");
    failCommits = false;
    c.send({ type: "op", op: [{ i: "x" }], revision: 0, seq: 1 });
    expect(await c.conn.next()).toEqual({ type: "ack", docId: "doc", revision: 1, seq: 1 });
  });

  it("refuses messages beyond maxQueuedMessages with rate_limited", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { open, backend } = await setup({
      hub: { maxQueuedMessages: 2 },
      backend: (memory) =>
        Object.assign(Object.create(memory) as IBackendAdapter, {
          commit: async (docId: string, request: Parameters<IBackendAdapter["commit"]>[1]) => {
            await gate;
            return memory.commit(docId, request);
          },
        }),
    });
    const c = open();
    await joined(c, { clientId: "c" });
    c.send([1, 2, 3, 4, 5].map((seq) => ({ type: "op", op: [{ i: `${seq}` }], revision: 0, seq })));
    // The first op is being handled, two wait, two are refused.
    const refused = await c.conn.take(2);
    expect(refused).toEqual([
      expect.objectContaining({ type: "error", code: "rate_limited", docId: "doc", seq: 4 }),
      expect.objectContaining({ type: "error", code: "rate_limited", docId: "doc", seq: 5 }),
    ]);
    release();
    expect((await c.conn.take(3)).map((m) => m.type)).toEqual(["ack", "ack", "ack"]);
    await expectDoc(backend, 3, "123");
  });

  it("survives a connection whose send throws", async () => {
    const { hub, open } = await setup();
    const broken = hub.connect({
      send: () => {
        throw new Error("socket gone");
      },
      close: () => undefined,
    });
    broken.receive(JSON.stringify({ type: "join", docId: "doc" }));
    broken.receive(JSON.stringify({ type: "ping" }));
    await broken.idle();
    const ok = open();
    expect(await joined(ok)).toMatchObject({ type: "snapshot" });
  });
});

describe("Hub: lifecycle", () => {
  it("releases a closed session's documents and sends nothing more to it", async () => {
    const { open, hub, server } = await setup();
    const c = open();
    await joined(c);
    expect(hub.documentCount).toBe(1);
    expect(hub.sessionCount).toBe(1);
    c.session.close();
    c.session.close();
    expect(hub.sessionCount).toBe(0);
    expect(hub.documentCount).toBe(0);
    await server.submitOperation("doc", [{ i: "x" }], 0);
    c.session.receive(JSON.stringify({ type: "ping" }));
    await c.session.idle();
    expect(c.conn.unread()).toEqual([]);
  });

  it("close() closes every connection with 1001", async () => {
    const { open, hub } = await setup();
    const a = open();
    const b = open();
    await joined(a);
    await hub.close();
    expect(a.conn.closed?.code).toBe(1001);
    expect(b.conn.closed?.code).toBe(1001);
    expect(() => hub.connect(new RecordingConnection())).toThrow(/after close/);
  });

  it("refuses bad options loudly", async () => {
    const backend = new MemoryBackend();
    const server = new Server(backend);
    expect(() => new Hub({ server, docType: "rich" })).toThrow(/registerType/);
    expect(() => new Hub({ server, defaultDocId: "a/b" })).toThrow(/defaultDocId/);
    expect(() => new Hub({ server, maxQueuedMessages: 0 })).toThrow(/maxQueuedMessages/);
    const bare = Object.create(backend) as IBackendAdapter & { pubsub?: unknown };
    Object.defineProperty(bare, "pubsub", { value: undefined });
    expect(() => new Hub({ server: new Server(bare) })).toThrow(/pubsub/);
    expect(new Hub({ server }).defaultDocId).toBe("doc-1");
  });
});
