// Two server instances (Server + Hub each, on their own RedisAdapter) sharing one Redis, with
// protocol clients on both: what clients see when the subscriber connections are killed or
// Redis itself goes away while they edit.
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Hub, Server } from "@open-ot/server";
import { startRedisServer, waitUntil, type RedisServer } from "@open-ot/harness";
import { RedisAdapter } from "../src/index.js";
import { inspector } from "./helpers.js";
import { ProtocolClient } from "./protocol-client.js";

let redis: RedisServer;
let raw: Redis;
const instances: { hub: Hub; adapter: RedisAdapter }[] = [];
const clients: ProtocolClient[] = [];

/** One server instance. `reconnectMs` spaces ioredis's reconnect attempts (a window in which pub/sub messages are lost). */
function instance(reconnectMs = 50): Hub {
  const adapter = new RedisAdapter({ host: "127.0.0.1", port: redis.port, retryStrategy: () => reconnectMs }, { snapshotEvery: 10 });
  // A short lost-notice delay: a commit whose notice was lost is read from history soon.
  const hub = new Hub({ server: new Server(adapter), createOnJoin: true, sequencer: { lostNoticeDelayMs: 100, retryDelayMs: 20 } });
  instances.push({ hub, adapter });
  return hub;
}

async function client(hub: Hub, clientId: string): Promise<ProtocolClient> {
  const created = new ProtocolClient(hub, clientId, "doc");
  clients.push(created);
  await created.join();
  return created;
}

beforeEach(async () => {
  redis = await startRedisServer();
  raw = inspector(redis.url);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const { hub, adapter } of instances.splice(0)) {
    await hub.close();
    await adapter.close();
  }
  raw.disconnect();
  await redis.stop();
});

/** Every client saw revisions `first+1 .. total` exactly once, in order, and its own ops acked once each. */
function expectComplete(all: ProtocolClient[], total: number, opsPerWriter: Map<ProtocolClient, number>): void {
  for (const c of all) {
    expect(c.violations, c.clientId).toEqual([]);
    expect(c.revision, c.clientId).toBe(total);
    const first = total - c.revisions.length;
    expect(c.revisions, c.clientId).toEqual(Array.from({ length: total - first }, (_, i) => first + i + 1));
  }
  for (const [writer, count] of opsPerWriter) {
    expect(writer.acked, writer.clientId).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  }
}

describe("two instances sharing Redis", () => {
  it("CLIENT KILL TYPE pubsub while ops flow: clients of both instances still get every revision, in order", async () => {
    const hubA = instance();
    const hubB = instance(150);
    const writerA = await client(hubA, "writer-a");
    const writerB = await client(hubB, "writer-b");
    const readerA = await client(hubA, "reader-a");
    const readerB = await client(hubB, "reader-b");

    const perWriter = 60;
    let kills = 0;
    // Each writer keeps one op in flight, as an OT client does; both write at once.
    async function write(writer: ProtocolClient): Promise<void> {
      for (let seq = 1; seq <= perWriter; seq++) {
        writer.submit(seq, `${writer.clientId}:${seq};`);
        await waitUntil(() => writer.acked.includes(seq) || writer.errorsFor(seq).length > 0, `${writer.clientId}'s ack ${seq}`, 10_000);
        expect(writer.errorsFor(seq)).toEqual([]);
        if (writer === writerA && seq % 20 === 10) {
          // Kill both instances' subscriber connections in the middle of the flow.
          kills += 1;
          expect(await raw.client("KILL", "TYPE", "pubsub")).toBeGreaterThanOrEqual(1);
        }
      }
    }
    await Promise.all([write(writerA), write(writerB)]);
    expect(kills).toBe(3);

    const total = perWriter * 2;
    const everyone = [writerA, writerB, readerA, readerB];
    await waitUntil(() => everyone.every((c) => c.revision >= total), "every client to reach the last revision", 10_000);
    expectComplete(
      everyone,
      total,
      new Map([
        [writerA, perWriter],
        [writerB, perWriter],
      ]),
    );
  });

  it("Redis stopped mid-editing: submits are refused with unavailable while it is down, then editing resumes with no op lost or doubled", async () => {
    const hubA = instance();
    const hubB = instance();
    const writerA = await client(hubA, "writer-a");
    const writerB = await client(hubB, "writer-b");
    const reader = await client(hubB, "reader");

    const perWriter = 40;
    let back: (() => void) | undefined;
    const cameBack = new Promise<void>((resolve) => (back = resolve));
    let down: (() => void) | undefined;
    const wentDown = new Promise<void>((resolve) => (down = resolve));
    const refusals: string[] = [];

    // A writer resends an op refused with `unavailable` under the same seq once Redis is back: if
    // the first try was in fact committed, de-duplication drops the copy.
    async function write(writer: ProtocolClient): Promise<void> {
      for (let seq = 1; seq <= perWriter; seq++) {
        if (writer === writerA && seq === 15) down?.();
        let tries = 0;
        for (;;) {
          tries += 1;
          if (tries > 3) throw new Error(`${writer.clientId} seq ${seq}: refused ${tries - 1} times`);
          const errorsBefore = writer.errorsFor(seq).length;
          writer.submit(seq, `${writer.clientId}:${seq};`);
          await waitUntil(
            () => writer.acked.includes(seq) || writer.errorsFor(seq).length > errorsBefore,
            `${writer.clientId}'s ack or refusal of ${seq}`,
            10_000,
          );
          const refusal = writer.errorsFor(seq)[errorsBefore];
          if (refusal === undefined) break;
          if (refusal.type === "error") refusals.push(refusal.code);
          await cameBack;
          // The ack of a first try that did commit may still be on its way (catch-up after the
          // resubscribe): then there is nothing to resend.
          await waitUntil(() => writer.revision >= 0, "a live connection", 10_000);
          if (writer.acked.includes(seq)) break;
        }
      }
    }

    const writing = Promise.all([write(writerA), write(writerB)]);
    await wentDown;
    await redis.shutdown({ save: true });
    await waitUntil(() => refusals.length > 0, "a submit refused while Redis is down", 10_000);
    await redis.start();
    // Writers resend once both instances reach Redis again (a real client backs off meanwhile).
    for (const { hub } of instances) {
      await waitUntil(async () => (await hub.checkHealth()).reachable, "the instance to reach Redis again", 10_000);
    }
    back?.();
    await writing;

    expect(new Set(refusals)).toEqual(new Set(["unavailable"]));
    const total = perWriter * 2;
    const everyone = [writerA, writerB, reader];
    await waitUntil(() => everyone.every((c) => c.revision >= total), "every client to reach the last revision", 10_000);
    expectComplete(
      everyone,
      total,
      new Map([
        [writerA, perWriter],
        [writerB, perWriter],
      ]),
    );

    // Storage agrees: every (clientId, seq) once, revisions 1..total, a consistent document.
    const check = new RedisAdapter(redis.url, { snapshotEvery: 10, snapshotCacheSize: 0 });
    try {
      const ops = await check.getOps("doc", 1);
      expect(ops.map((o) => o.revision)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      const ids = ops.map((o) => `${o.clientId}:${o.seq}`);
      expect(new Set(ids).size).toBe(total);
      const record = await check.getRecord("doc");
      for (const id of ids) expect((record.data as string).split(`${id};`)).toHaveLength(2);
    } finally {
      await check.close();
    }
  });
});
