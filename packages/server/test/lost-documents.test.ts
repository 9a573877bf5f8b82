// What the hub does when its store is unreachable or has lost a document: `unavailable`, never
// `bad_revision`, while it cannot know; a lost document named as such; the restore extension,
// of which exactly one copy wins; no op applied twice because its ack was lost.
import type { ServerMessage } from "@open-ot/core";
import { afterEach, describe, expect, it } from "vitest";
import { authorLabel } from "../src/author-label.js";
import { BackendUnavailableError, type IBackendAdapter, type PubSub } from "../src/backend.js";
import { Hub } from "../src/hub.js";
import { MemoryBackend } from "../src/memory-backend.js";
import { Server } from "../src/server.js";
import { RecordingConnection } from "./recording-connection.js";
import { waitUntil } from "@open-ot/harness";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function start(backend: IBackendAdapter, pubsub: PubSub = (backend as unknown as { pubsub: PubSub }).pubsub, timeoutMs = 200) {
  const server = new Server(backend, { backendTimeoutMs: timeoutMs, healthProbeIntervalMs: 10 });
  const hub = new Hub({ server, pubsub, createOnJoin: true });
  closers.push(async () => {
    await hub.close();
    server.guard.close();
  });
  const open = () => {
    const conn = new RecordingConnection();
    const session = hub.connect(conn);
    return { conn, send: (m: unknown) => session.receive(JSON.stringify(m)) };
  };
  return { server, hub, open };
}

/** Type "text" at the end, acked; returns the snapshot-side view of the client afterwards. */
async function type(
  client: ReturnType<ReturnType<typeof start>["open"]>,
  revision: number,
  at: number,
  text: string,
  seq: number,
): Promise<void> {
  client.send({ type: "op", docId: "doc", revision, seq, op: [{ r: at }, { i: text }] });
  await waitUntil(() => client.conn.messages.some((m) => m.type === "ack" && m.seq === seq), `the ack of seq ${seq}`);
}

describe("an unreachable store", () => {
  it("answers joins and ops with unavailable (never bad_revision), keeps the connection, and serves again when the store is back", async () => {
    const memory = new MemoryBackend();
    await memory.createDocument("doc", "text", "abc");
    let down = false;
    const flaky = new Proxy(memory, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== "function" || key === "close" || key === "pubsub") return value;
        return (...args: unknown[]) =>
          down
            ? Promise.reject(new BackendUnavailableError("connection refused", false))
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    const { open, hub } = start(flaky, memory.pubsub);
    const alice = open();
    alice.send({ type: "join", docId: "doc", clientId: "alice" });
    const snapshot = await alice.conn.next();
    expect(snapshot).toMatchObject({ type: "snapshot", revision: 0 });
    down = true;
    alice.send({ type: "op", docId: "doc", revision: 0, seq: 1, op: [{ i: "x" }] });
    expect(await alice.conn.next()).toMatchObject({ type: "error", code: "unavailable", docId: "doc", seq: 1 });
    // A rejoin from a revision the store would show as ahead, if it could answer: still unavailable.
    alice.send({ type: "join", docId: "doc", clientId: "alice", revision: 9, epoch: (snapshot as { epoch: string }).epoch });
    expect(await alice.conn.next()).toMatchObject({ type: "error", code: "unavailable", docId: "doc" });
    expect(alice.conn.closed).toBeUndefined();
    expect((await hub.checkHealth()).reachable).toBe(false);
    down = false;
    await waitUntil(() => hub.health.reachable, "the store to answer a probe");
    alice.send({ type: "join", docId: "doc", clientId: "alice", revision: 0, epoch: (snapshot as { epoch: string }).epoch });
    expect(await alice.conn.next()).toMatchObject({ type: "joined", revision: 0 });
    alice.send({ type: "op", docId: "doc", revision: 0, seq: 1, op: [{ i: "x" }] });
    expect(await alice.conn.next()).toMatchObject({ type: "ack", revision: 1, seq: 1 });
  });
});

describe("a lost document", () => {
  it("is answered bad_revision with serverRevision null, and a join that holds a copy never creates it", async () => {
    const { open } = start(new MemoryBackend());
    const tab = open();
    tab.send({ type: "join", docId: "doc", clientId: "tab", revision: 5, epoch: "old-life" });
    expect(await tab.conn.next()).toMatchObject({ type: "error", code: "bad_revision", docId: "doc", serverRevision: null });
    tab.send({ type: "join", docId: "doc", clientId: "tab", epoch: "old-life" });
    expect(await tab.conn.next()).toMatchObject({ type: "error", code: "bad_revision", serverRevision: null });
    // Someone without a copy creates it afresh; the old copy is then of another life.
    const fresh = open();
    fresh.send({ type: "join", docId: "doc", clientId: "fresh" });
    expect(await fresh.conn.next()).toMatchObject({ type: "snapshot", revision: 0, data: "" });
    tab.send({ type: "join", docId: "doc", clientId: "tab", revision: 0, epoch: "old-life" });
    expect(await tab.conn.next()).toMatchObject({ type: "error", code: "bad_revision", serverRevision: 0 });
  });

  it("is restored from exactly one of the copies joined at once; the others are served the winner", async () => {
    const memory = new MemoryBackend();
    const { open } = start(memory);
    const copies = ["abc", "abcd", "abcde"];
    const tabs = copies.map(() => open());
    tabs.forEach((tab, k) =>
      tab.send({ type: "join", docId: "doc", clientId: `tab${k}`, revision: 3 + k, epoch: "old-life", restore: { data: copies[k] } }),
    );
    const answers = await Promise.all(tabs.map((tab) => tab.conn.next()));
    const record = await memory.getRecord("doc");
    const winner = copies.indexOf(record.data as string);
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(record.v).toBe(3 + winner);
    const lineage = await memory.getLineage("doc");
    expect(lineage.restoredFrom).toEqual({ epoch: "old-life", revision: 3 + winner });
    answers.forEach((answer, k) => {
      // The winner resumes from its own revision in the new epoch; every other copy descends from
      // the epoch the document was restored from, so each gets the winner as a snapshot to rebase onto.
      if (k === winner)
        expect(answer).toEqual({
          type: "joined",
          docId: "doc",
          revision: 3 + winner,
          epoch: lineage.epoch,
          author: authorLabel("doc", `tab${k}`),
        });
      else expect(answer).toMatchObject({ type: "snapshot", data: copies[winner], revision: 3 + winner, epoch: lineage.epoch });
    });
  });

  it("tells exactly one of two identical copies that it won (joined); the other gets a snapshot, even when it comes later", async () => {
    const { open } = start(new MemoryBackend());
    const [first, second, late] = [open(), open(), open()];
    for (const [k, tab] of [first, second].entries()) {
      tab.send({ type: "join", docId: "doc", clientId: `tab${k}`, revision: 2, epoch: "old-life", restore: { data: "ab" } });
    }
    const answers = [await first.conn.next(), await second.conn.next()];
    expect(answers.map((a) => a.type).sort()).toEqual(["joined", "snapshot"]);
    late.send({ type: "join", docId: "doc", clientId: "late", revision: 2, epoch: "old-life", restore: { data: "ab" } });
    expect(await late.conn.next()).toMatchObject({ type: "snapshot", revision: 2, data: "ab" });
  });

  it("tells a rejoining client that its op whose ack was lost is in the winning copy (lastSeq), so it is not sent twice", async () => {
    const before = new MemoryBackend();
    const first = start(before);
    const writer = first.open();
    const watcher = first.open();
    writer.send({ type: "join", docId: "doc", clientId: "writer" });
    watcher.send({ type: "join", docId: "doc", clientId: "watcher" });
    const { epoch } = (await writer.conn.next()) as ServerMessage & { epoch: string };
    await watcher.conn.next();
    await type(writer, 0, 0, "hello", 1);
    // The watcher sees the op with its author and seq: what it will put in its restore copy.
    expect(await watcher.conn.next()).toMatchObject({ type: "op", revision: 1, author: authorLabel("doc", "writer"), seq: 1 });

    // The server restarts without its data; the writer never got the ack of seq 1 (so it holds
    // revision 0 and seq 1 pending), the watcher holds revision 1.
    const after = start(new MemoryBackend());
    const watcherAgain = after.open();
    watcherAgain.send({
      type: "join",
      docId: "doc",
      clientId: "watcher",
      revision: 1,
      epoch,
      restore: { data: "hello", seqs: { [authorLabel("doc", "writer")]: 1 } },
    });
    expect(await watcherAgain.conn.next()).toMatchObject({ type: "joined", revision: 1 });
    const writerAgain = after.open();
    writerAgain.send({ type: "join", docId: "doc", clientId: "writer", revision: 0, epoch });
    expect(await writerAgain.conn.next()).toMatchObject({ type: "snapshot", revision: 1, data: "hello", lastSeq: 1 });
  });

  it("closes (1011) the connections that follow the document's older life when it is restored, and refuses their ops", async () => {
    const memory = new MemoryBackend();
    await memory.createDocument("doc", "text", "ab");
    const { open, server } = start(memory);
    const old = open();
    old.send({ type: "join", docId: "doc", clientId: "old" });
    const { epoch } = (await old.conn.next()) as ServerMessage & { epoch: string };
    // The store loses its last commits: the document is behind what a tab holds (same epoch).
    const restorer = open();
    restorer.send({ type: "join", docId: "doc", clientId: "restorer", revision: 4, epoch, restore: { data: "abcd" } });
    expect(await restorer.conn.next()).toMatchObject({ type: "joined", revision: 4 });
    expect(await memory.getRecord("doc")).toMatchObject({ v: 4, data: "abcd" });
    await waitUntil(() => old.conn.closed !== undefined, "the follower of the older life to be closed");
    expect(old.conn.closed?.code).toBe(1011);
    expect(restorer.conn.closed).toBeUndefined();
    // An op of the older life (its connection not closed yet) is refused: join again.
    await expect(server.submitOperation("doc", [{ i: "?" }], 2, { clientId: "old", seq: 1, epoch })).rejects.toMatchObject({
      code: "resync_required",
      message: expect.stringMatching(/earlier life/),
    });
    restorer.send({ type: "op", docId: "doc", revision: 4, seq: 1, op: [{ i: "!" }] });
    expect(await restorer.conn.next()).toMatchObject({ type: "ack", revision: 5, seq: 1 });
    expect(await memory.getRecord("doc")).toMatchObject({ v: 5, data: "!abcd" });
  });
});

describe("a restore under the connection policy's rules", () => {
  function startWith(options: { maxCreatedDocuments?: number; maxDocumentSize?: number }) {
    const memory = new MemoryBackend();
    const server = new Server(memory, options.maxDocumentSize === undefined ? {} : { maxDocumentSize: options.maxDocumentSize });
    const hub = new Hub({
      server,
      createOnJoin: true,
      ...(options.maxCreatedDocuments === undefined ? {} : { maxCreatedDocuments: options.maxCreatedDocuments }),
    });
    closers.push(async () => {
      await hub.close();
      server.guard.close();
    });
    const open = (principal?: string) => {
      const conn = new RecordingConnection();
      const session = hub.connect(conn, principal === undefined ? {} : { principal });
      return { conn, send: (m: unknown) => session.receive(JSON.stringify(m)) };
    };
    return { memory, open };
  }

  it("refuses a restoring join of a clientId bound to another principal with forbidden, and restores nothing", async () => {
    const { memory, open } = startWith({});
    const owner = open("alice");
    owner.send({ type: "join", docId: "doc", clientId: "owned-client-0001" });
    const { epoch } = (await owner.conn.next()) as ServerMessage & { epoch: string };
    owner.send({ type: "op", docId: "doc", revision: 0, seq: 1, op: [{ i: "a" }] });
    expect(await owner.conn.next()).toMatchObject({ type: "ack", revision: 1 });
    const thief = open("mallory");
    thief.send({ type: "join", docId: "doc", clientId: "owned-client-0001", revision: 5, epoch, restore: { data: "stolen" } });
    expect(await thief.conn.next()).toMatchObject({ type: "error", code: "forbidden", docId: "doc" });
    expect(await memory.getRecord("doc")).toEqual({ type: "text", v: 1, data: "a" });
    expect((await memory.getLineage("doc")).epoch).toBe(epoch);
  });

  it("counts the restore of a missing document against maxCreatedDocuments", async () => {
    const { memory, open } = startWith({ maxCreatedDocuments: 1 });
    const first = open();
    first.send({ type: "join", docId: "one", clientId: "tab1", revision: 3, epoch: "old-life", restore: { data: "abc" } });
    expect(await first.conn.next()).toMatchObject({ type: "joined", docId: "one", revision: 3 });
    const second = open();
    second.send({ type: "join", docId: "two", clientId: "tab2", revision: 3, epoch: "old-life", restore: { data: "xyz" } });
    expect(await second.conn.next()).toMatchObject({ type: "error", code: "not_found", docId: "two" });
    await expect(memory.getRevision("two")).rejects.toMatchObject({ name: "DocumentNotFoundError" });
  });

  it("refuses a copy that is not a document of the type with bad_message (final), never internal", async () => {
    const { memory, open } = startWith({});
    const tab = open();
    tab.send({ type: "join", docId: "doc", clientId: "tab", revision: 3, epoch: "old-life", restore: { data: { not: "text" } } });
    expect(await tab.conn.next()).toMatchObject({ type: "error", code: "bad_message", docId: "doc" });
    await expect(memory.getRevision("doc")).rejects.toMatchObject({ name: "DocumentNotFoundError" });
  });

  it("refuses a copy larger than maxDocumentSize with too_large", async () => {
    const { memory, open } = startWith({ maxDocumentSize: 4 });
    const tab = open();
    tab.send({ type: "join", docId: "doc", clientId: "tab", revision: 3, epoch: "old-life", restore: { data: "too long" } });
    expect(await tab.conn.next()).toMatchObject({ type: "error", code: "too_large", docId: "doc" });
    await expect(memory.getRevision("doc")).rejects.toMatchObject({ name: "DocumentNotFoundError" });
  });
});
