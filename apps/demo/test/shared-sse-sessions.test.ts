// SSE without sticky sessions: OTClients over the reconnecting SSE transport, behind a balancer
// that sends every request to a random one of two demo instances on one real redis-server,
// while their streams are cut. (The POST-level checks are in packages/transport-http-sse/test/
// shared-sessions.test.ts.)
import { RedisAdapter } from "@open-ot/adapter-redis";
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { randomTextEdit, seededRandom, startRedisServer, waitUntil, type RedisServer } from "@open-ot/harness";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bundleDemo, type DemoBundle } from "./support/demo-bundle.js";
import { DemoProcess } from "./support/demo-process.js";
import { expectExactlyOnce } from "./support/exactly-once.js";
import { startRandomBalancer, type RandomBalancer } from "./support/random-balancer.js";

describe("SSE sessions shared by two demo instances behind a random balancer", () => {
  let redis: RedisServer;
  let bundle: DemoBundle;
  let store: RedisAdapter;
  const open: { close(): Promise<void> | void }[] = [];

  beforeAll(async () => {
    [redis, bundle] = await Promise.all([startRedisServer(), bundleDemo()]);
    store = new RedisAdapter(redis.url);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await bundle?.cleanup();
    await redis?.stop();
  });
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  async function twoInstances(): Promise<[DemoProcess, DemoProcess]> {
    const pair: [DemoProcess, DemoProcess] = [
      new DemoProcess({ bundle, redisUrl: redis.url }),
      new DemoProcess({ bundle, redisUrl: redis.url }),
    ];
    await Promise.all(pair.map((instance) => instance.start()));
    open.push(
      ...pair.map((instance) => ({
        close: async () => {
          await instance.stop();
        },
      })),
    );
    return pair;
  }

  it("OTClients behind a random balancer converge, each op committed and acked exactly once, while their streams are cut", async () => {
    const [a, b] = await twoInstances();
    const seed = Date.now() % 1_000_000;
    const random = seededRandom(seed);
    const context = `(seed ${seed})`;
    const balancer: RandomBalancer = await startRandomBalancer([a.url, b.url], seededRandom(seed + 1));
    open.push(balancer);
    const DOC = "shared-sse";
    const clients = Array.from({ length: 8 }, (_, index) => {
      const transport = new ReconnectingTransport<unknown>(() => new HttpSseTransport<unknown>(balancer.url, { sendTimeout: 10_000 }), {
        backoff: { initialDelay: 20, maxDelay: 200 },
        connectTimeout: 5_000,
        // Pings go through the balancer too, so some of them are relayed to the stream's instance.
        heartbeat: { interval: 250, timeout: 5_000 },
        browserEvents: false,
      });
      const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: DOC });
      const acks = new Map<number, number>();
      client.on("ack", ({ seq }) => acks.set(seq, (acks.get(seq) ?? 0) + 1));
      const problems: string[] = [];
      client.on("resync", (event) => problems.push(`resync ${event.reason}`));
      client.on("error", (error) => {
        // A send queued when its stream was cut fails, or is answered 404 (the session ended),
        // as with sticky sessions: the op stays pending and is resent after the next join.
        if (error.code === "send_failed") return;
        problems.push(`error ${error.code}: ${error.message}`);
      });
      return { client, acks, problems, index };
    });
    await Promise.all(clients.map(({ client }) => client.connect()));

    let edits = 0;
    const started = Date.now();
    let nextCut = 600;
    while (Date.now() - started < 4_000) {
      if (Date.now() - started >= nextCut) {
        balancer.cutStreams();
        nextCut += 600 + Math.floor(random() * 400);
      }
      const target = clients[Math.floor(random() * clients.length)]!;
      if (target.client.hasDocument) {
        target.client.submit(randomTextEdit(random, target.client.snapshot, { insert: () => `<${target.index}.${edits}>` }));
        edits++;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    let revision = -1;
    await waitUntil(
      async () => {
        revision = await store.getRevision(DOC);
        return clients.every(({ client }) => client.synced && client.connectionState === "live" && client.revision === revision);
      },
      `every client synced at Redis's revision ${context}`,
      30_000,
      50,
    );
    const record = await store.getRecord(DOC);
    for (const { client, index, problems } of clients) {
      expect(client.snapshot, `client ${index} text ${context}`).toBe(record.data);
      expect(problems, `client ${index} ${context}`).toEqual([]);
    }
    const committed = await store.getOps(DOC, 1);
    expectExactlyOnce(committed, record.data, clients, context);
    // The client composes edits made while an op is in flight, so there are fewer commits than edits.
    expect(revision).toBeGreaterThan(clients.length);
    expect(revision).toBeLessThanOrEqual(edits);

    // The balancer did its job: streams on both instances, cut and reopened, and many POSTs
    // (joins, ops, pings) reached the instance that does not hold their stream.
    const { crossPosts, streams, cuts } = balancer.counts;
    expect(
      streams.every((n) => n > 0),
      `streams per instance ${JSON.stringify(streams)}`,
    ).toBe(true);
    expect(cuts).toBeGreaterThan(0);
    const cross = (type: string): number =>
      [...crossPosts].filter(([key]) => key.split("+").includes(type)).reduce((sum, [, n]) => sum + n, 0);
    expect(cross("op"), JSON.stringify([...crossPosts])).toBeGreaterThan(10);
    expect(cross("join"), JSON.stringify([...crossPosts])).toBeGreaterThan(0);
    expect(cross("ping"), JSON.stringify([...crossPosts])).toBeGreaterThan(0);
    await Promise.all(clients.map(({ client }) => client.disconnect()));
  }, 60_000);
});
