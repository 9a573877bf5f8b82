// An instance's own commits reach its connections without waiting for their pub/sub notice
// (the sequencer takes the commit as its notice), on a real Redis: the ack comes while the
// notice is still held back, the late notice is not delivered twice, and an own commit ahead
// of another instance's lower one waits for it.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Hub, Server, type PubSub, type PubSubListener } from "@open-ot/server";
import { startRedisServer, waitUntil, type RedisServer } from "@open-ot/harness";
import { RedisAdapter } from "../src/index.js";
import { ProtocolClient } from "./protocol-client.js";

let redis: RedisServer;
const instances: { hub: Hub; adapter: RedisAdapter }[] = [];
const clients: ProtocolClient[] = [];

/** The notices of one instance, which a test can hold back (they arrive, and wait) and let go. */
interface NoticeGate {
  holding: boolean;
  /** Notices that arrived while holding, in order. */
  readonly held: (() => void)[];
  /** Notices handed to the hub. */
  delivered: number;
  release(): void;
}

/** One server instance whose hub receives its notices through a {@link NoticeGate}. */
function instance(lostNoticeDelayMs = 60_000): { hub: Hub; gate: NoticeGate } {
  const adapter = new RedisAdapter({ host: "127.0.0.1", port: redis.port }, { snapshotEvery: 10 });
  const gate: NoticeGate = {
    holding: false,
    held: [],
    delivered: 0,
    release() {
      this.holding = false;
      for (const deliver of this.held.splice(0)) deliver();
    },
  };
  const pubsub: PubSub = {
    publish: (channel, message) => adapter.publish(channel, message),
    subscribe: (channel, onMessage: PubSubListener) =>
      adapter.subscribe(channel, (message) => {
        const deliver = (): void => {
          gate.delivered += 1;
          onMessage(message);
        };
        if (gate.holding) gate.held.push(deliver);
        else deliver();
      }),
    onResubscribe: (listener) => adapter.onResubscribe(listener),
    close: () => Promise.resolve(),
  };
  const hub = new Hub({ server: new Server(adapter), pubsub, createOnJoin: true, sequencer: { lostNoticeDelayMs } });
  instances.push({ hub, adapter });
  return { hub, gate };
}

async function client(hub: Hub, clientId: string): Promise<ProtocolClient> {
  const created = new ProtocolClient(hub, clientId, "doc");
  clients.push(created);
  await created.join();
  return created;
}

/** What a client received after its snapshot, as `type:revision`. */
function received(c: ProtocolClient): string[] {
  return c.messages.filter((m) => m.type === "ack" || m.type === "op").map((m) => `${m.type}:${"revision" in m ? m.revision : ""}`);
}

beforeEach(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const { hub, adapter } of instances.splice(0)) {
    await hub.close();
    await adapter.close();
  }
  await redis.stop();
});

describe("own commits on Redis", () => {
  it("are acked and relayed on their instance before their notice arrives, once", async () => {
    const { hub, gate } = instance();
    const writer = await client(hub, "writer");
    const reader = await client(hub, "reader");
    gate.holding = true;
    for (let seq = 1; seq <= 3; seq++) {
      writer.submit(seq, `w${seq};`);
      await waitUntil(() => writer.acked.includes(seq), `ack ${seq}`, 10_000);
    }
    await waitUntil(() => reader.revision === 3, "the reader to get revisions 1-3", 10_000);
    // Every notice came (by Redis) and is still held: the acks and ops did not wait for them.
    await waitUntil(() => gate.held.length === 3, "the three notices to arrive at the gate", 10_000);
    expect(gate.delivered).toBe(0);
    gate.release();
    expect(gate.delivered).toBe(3);
    // The next commit's ack comes after the late notices: none of them was delivered again.
    writer.submit(4, "w4;");
    await waitUntil(() => writer.acked.includes(4) && reader.revision === 4, "revision 4 on both", 10_000);
    expect(received(writer)).toEqual(["ack:1", "ack:2", "ack:3", "ack:4"]);
    expect(received(reader)).toEqual(["op:1", "op:2", "op:3", "op:4"]);
    expect(writer.violations).toEqual([]);
    expect(reader.violations).toEqual([]);
  });

  it("wait for another instance's lower commit before the ack", async () => {
    const a = instance();
    const b = instance();
    const alice = await client(a.hub, "alice");
    const bob = await client(b.hub, "bob");
    b.gate.holding = true;
    alice.submit(1, "a;");
    await waitUntil(() => alice.acked.includes(1), "alice's ack", 10_000);
    await waitUntil(() => b.gate.held.length === 1, "revision 1's notice to reach instance B", 10_000);
    // Bob's op is based on 0: committed as revision 2 while B still lacks revision 1.
    bob.submit(1, "b;");
    await waitUntil(() => b.gate.held.length === 2, "revision 2's notice to reach instance B", 10_000);
    expect(received(bob)).toEqual([]);
    b.gate.release();
    await waitUntil(() => bob.revision === 2, "bob's op 1 and ack 2", 10_000);
    expect(received(bob)).toEqual(["op:1", "ack:2"]);
    await waitUntil(() => alice.revision === 2, "alice's op 2", 10_000);
    expect(received(alice)).toEqual(["ack:1", "op:2"]);
    expect(bob.violations).toEqual([]);
    expect(alice.violations).toEqual([]);
  });

  it("two instances writing at once: every client gets every revision once, in order", async () => {
    const a = instance(50);
    const b = instance(50);
    const writers = [await client(a.hub, "wa"), await client(b.hub, "wb")];
    const readers = [await client(a.hub, "ra"), await client(b.hub, "rb")];
    const perWriter = 50;
    // One op in flight per writer; instance B's notices are held back now and then, so its own
    // commits run ahead of them.
    await Promise.all(
      writers.map(async (writer) => {
        for (let seq = 1; seq <= perWriter; seq++) {
          if (writer.clientId === "wb" && seq % 10 === 0) {
            b.gate.holding = true;
            setImmediate(() => b.gate.release());
          }
          writer.submit(seq, `${writer.clientId}:${seq};`);
          await waitUntil(() => writer.acked.includes(seq), `${writer.clientId}'s ack ${seq}`, 10_000);
        }
      }),
    );
    const total = perWriter * 2;
    const everyone = [...writers, ...readers];
    await waitUntil(() => everyone.every((c) => c.revision >= total), "every client to reach the last revision", 10_000);
    for (const c of everyone) {
      expect(c.violations, c.clientId).toEqual([]);
      expect(c.revisions, c.clientId).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    }
    for (const w of writers) expect(w.acked, w.clientId).toEqual(Array.from({ length: perWriter }, (_, i) => i + 1));
  });
});
