import type { PresenceUpdateMessage, ServerMessage } from "@open-ot/core";
import { waitUntil } from "@open-ot/harness";
import { afterEach, describe, expect, it } from "vitest";
import { RecordingConnection } from "../test/recording-connection.js";
import { authorLabel } from "./author-label.js";
import { Hub } from "./hub.js";
import type { ConnectOptions, HubSession } from "./hub-types.js";
import { InProcessPubSub } from "./in-process-pub-sub.js";
import { MemoryBackend } from "./memory-backend.js";
import type { PresenceOptions } from "./presence/presence-service.js";
import { Server } from "./server.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Client {
  conn: RecordingConnection;
  session: HubSession;
  send(message: unknown): void;
  /** Presence messages received so far. */
  presence(): PresenceUpdateMessage[];
}

/** Two hubs (instances) over one backend and pub/sub. */
async function setup(presence: PresenceOptions = {}) {
  const pubsub = new InProcessPubSub();
  const backend = new MemoryBackend({ pubsub });
  await backend.createDocument("doc", "text", "hello");
  const hubs = [0, 1].map(() => {
    const hub = new Hub({ server: new Server(backend), pubsub, presence });
    closers.push(() => hub.close());
    return hub;
  });
  const open = (instance: number, connect?: ConnectOptions): Client => {
    const conn = new RecordingConnection();
    const session = (hubs[instance] as Hub).connect(conn, connect);
    return {
      conn,
      session,
      send: (m) => session.receive(JSON.stringify(m)),
      presence: () => conn.messages.filter((m): m is PresenceUpdateMessage => m.type === "presence"),
    };
  };
  return { backend, hubs, open };
}

/** Who `client` currently sees, from the presence messages it received. */
function seen(client: Client): Map<string, Record<string, unknown>> {
  const peers = new Map<string, Record<string, unknown>>();
  for (const message of client.presence()) {
    if (message.full === true) peers.clear();
    for (const peer of message.peers) {
      if ("gone" in peer) peers.delete(peer.author);
      else peers.set(peer.author, peer as unknown as Record<string, unknown>);
    }
  }
  return peers;
}

async function join(client: Client, clientId: string, presence = true): Promise<void> {
  client.send({ type: "join", docId: "doc", clientId, ...(presence ? { presence: true } : {}) });
  await waitUntil(() => client.conn.messages.some((m) => m.type === "snapshot"), `${clientId}'s snapshot`);
  if (presence) await waitUntil(() => client.presence().some((m) => m.full === true), `${clientId}'s presence`);
}

const caret = (at: number, extra: Record<string, unknown> = {}) => ({
  type: "presence",
  docId: "doc",
  state: { label: "x", revision: 0, ranges: [{ anchor: at, head: at }], ...extra },
});

describe("Hub: presence", () => {
  it("answers a presence join with the full set, stamps author and principal, and never echoes", async () => {
    const { open } = await setup();
    const alice = open(0, { principal: "user-alice" });
    const bob = open(0);
    await join(alice, "alice");
    await join(bob, "bob");
    expect(bob.presence()[0]).toEqual({ type: "presence", docId: "doc", peers: [], full: true });
    alice.send(caret(2, { label: "Admin", author: "forged", principal: "root" }));
    await waitUntil(() => seen(bob).size === 1, "bob sees alice");
    expect([...seen(bob).values()][0]).toEqual({
      author: authorLabel("doc", "alice"),
      principal: "user-alice",
      label: "Admin",
      revision: 0,
      ranges: [{ anchor: 2, head: 2 }],
    });
    expect(seen(alice).size).toBe(0);
  });

  it("sends nothing to a connection that did not ask (a v1 client) and stores nothing", async () => {
    const { open, backend } = await setup();
    const alice = open(0);
    const old = open(0);
    await join(alice, "alice");
    await join(old, "old", false);
    alice.send(caret(1));
    alice.send({ type: "op", docId: "doc", clientId: "alice", seq: 1, revision: 0, op: [{ i: "!" }] });
    await waitUntil(() => old.conn.messages.some((m) => m.type === "op"), "the op");
    expect(old.presence()).toEqual([]);
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 1 });
  });

  it("coalesces a burst into few messages, the last value winning", async () => {
    const { open } = await setup({ flushMs: 50 });
    const alice = open(0);
    const bob = open(0);
    await join(alice, "alice");
    await join(bob, "bob");
    for (let i = 0; i < 60; i++) alice.send(caret(i % 5));
    alice.send(caret(4, { label: "last" }));
    await waitUntil(() => seen(bob).get(authorLabel("doc", "alice"))?.["label"] === "last", "the last value");
    // One full set, then at most two flushes: the first change at once, the rest after 50 ms.
    expect(bob.presence().length).toBeLessThanOrEqual(3);
  });

  it("refuses an entry over the size limit with too_large and keeps the previous one", async () => {
    const { open } = await setup({ maxBytes: 200 });
    const alice = open(0);
    const bob = open(0);
    await join(alice, "alice");
    await join(bob, "bob");
    alice.send(caret(1));
    alice.send(caret(1, { label: "y".repeat(120), color: "z".repeat(60) }));
    await waitUntil(() => alice.conn.messages.some((m) => m.type === "error"), "the refusal");
    expect(alice.conn.messages.find((m) => m.type === "error")).toMatchObject({ code: "too_large", docId: "doc" });
    await waitUntil(() => seen(bob).size === 1, "bob sees alice");
    expect([...seen(bob).values()][0]?.["label"]).toBe("x");
  });

  it("removes an entry at once on leave, and after the grace on close unless the client comes back", async () => {
    const graceMs = 150;
    const { open } = await setup({ graceMs });
    const alice = open(0);
    const bob = open(0);
    const carol = open(0);
    await join(alice, "alice");
    await join(bob, "bob");
    await join(carol, "carol");
    alice.send(caret(1));
    carol.send(caret(3));
    await waitUntil(() => seen(bob).size === 2, "bob sees both");
    alice.send({ type: "leave", docId: "doc" });
    await waitUntil(() => seen(bob).size === 1, "alice gone on leave");

    const closedAt = performance.now();
    carol.session.close();
    await waitUntil(() => seen(bob).size === 0, "carol gone after the grace");
    expect(performance.now() - closedAt).toBeGreaterThanOrEqual(graceMs - 5);

    // A reconnect within the grace keeps the entry: no `gone` is ever sent for it.
    const dave = open(0);
    await join(dave, "dave");
    dave.send(caret(0));
    await waitUntil(() => seen(bob).size === 1, "bob sees dave");
    dave.session.close();
    const again = open(0);
    await join(again, "dave");
    again.send(caret(1));
    await waitUntil(
      () =>
        seen(bob).get(authorLabel("doc", "dave"))?.["ranges"] !== undefined &&
        JSON.stringify(seen(bob).get(authorLabel("doc", "dave"))?.["ranges"]) === JSON.stringify([{ anchor: 1, head: 1 }]),
      "dave's new caret",
    );
    const messagesBefore = bob.presence().length;
    const gone = (m: ServerMessage) => m.type === "presence" && m.peers.some((p) => "gone" in p && p.author === authorLabel("doc", "dave"));
    const deadline = performance.now() + graceMs * 2;
    // Absence can only be shown by waiting past the grace.
    await waitUntil(() => performance.now() > deadline, "twice the grace");
    expect(bob.conn.messages.filter(gone)).toEqual([]);
    expect(bob.presence().length).toBe(messagesBefore);
  });

  it("shows a joiner on another instance everyone, and drops a dead instance's people within the expiry", async () => {
    const expiryMs = 400;
    const { open, hubs } = await setup({ expiryMs });
    const alice = open(0);
    const bob = open(0);
    await join(alice, "alice");
    await join(bob, "bob");
    alice.send(caret(1));
    bob.send(caret(2));
    await waitUntil(() => seen(bob).size === 1 && seen(alice).size === 1, "the first instance's people see each other");

    const carol = open(1);
    await join(carol, "carol");
    await waitUntil(() => seen(carol).size === 2, "carol, on the other instance, sees alice and bob");
    carol.send(caret(4));
    await waitUntil(() => seen(alice).size === 2, "alice sees carol across instances");

    // The first instance dies: it publishes nothing more.
    const diedAt = performance.now();
    await (hubs[0] as Hub).close();
    await waitUntil(() => seen(carol).size === 0, "alice and bob disappear", expiryMs * 3);
    expect(performance.now() - diedAt).toBeLessThanOrEqual(expiryMs + 50);
  });
});
