// Redis goes away under running demo instances (killed and restarted with its data, frozen, or
// cut off from one instance) while people keep typing, over WebSocket and SSE, on one instance
// and on two. Nothing is restarted but Redis: every client must end live, with the server's
// text, every token it typed present exactly once, and none left refused or waiting.
import { RedisAdapter } from "@open-ot/adapter-redis";
import { startFaultProxy, startRedisServer, waitUntil, type FaultProxy, type RedisServer } from "@open-ot/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleDemo, type DemoBundle } from "./support/demo-bundle.js";
import { DemoProcess } from "./support/demo-process.js";
import { EditingFleet } from "./support/editing-fleet.js";

/** The demo's storage deadline in these tests: a frozen Redis is answered `unavailable` after this. */
const STORAGE_TIMEOUT_MS = 1_000;

let bundle: DemoBundle;
let redis: RedisServer;
let proxy: FaultProxy;
/** Alone: the one-instance fleets use it. */
let solo: DemoProcess;
/** A pair sharing Redis; `viaProxy` reaches it through the fault proxy. */
let viaProxy: DemoProcess;
let direct: DemoProcess;
let store: RedisAdapter;
let scenario = 0;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function health(instance: DemoProcess): Promise<number> {
  return (await fetch(`${instance.url}/healthz`)).status;
}

beforeAll(async () => {
  [bundle, redis] = await Promise.all([bundleDemo(), startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "always"] })]);
  proxy = await startFaultProxy({ target: { port: redis.port } });
  const args = ["--storage-timeout", String(STORAGE_TIMEOUT_MS), "--rate-limit", "0", "--history", "100000", "--verbose"];
  solo = new DemoProcess({ bundle, redisUrl: redis.url, args });
  viaProxy = new DemoProcess({ bundle, redisUrl: `redis://127.0.0.1:${proxy.port}`, args });
  direct = new DemoProcess({ bundle, redisUrl: redis.url, args });
  await Promise.all([solo.start(), viaProxy.start(), direct.start()]);
  store = new RedisAdapter(redis.url);
}, 60_000);

afterAll(async () => {
  if (redis?.pid !== undefined) process.kill(redis.pid, "SIGCONT");
  await store?.close();
  await Promise.allSettled([solo?.stop(), viaProxy?.stop(), direct?.stop()]);
  await proxy?.close();
  await redis?.stop();
  await bundle?.cleanup();
});

/**
 * Two fleets on their own documents: one on a single instance (WebSocket and SSE), one spread
 * over the pair (each instance a WebSocket and an SSE client). Each client types before, during
 * (`fault` calls `typeDuring` in the middle of it) and after the fault; both must converge.
 */
async function survive(
  name: string,
  fault: (typeDuring: () => void, fleets: { one: EditingFleet; two: EditingFleet }) => Promise<void>,
): Promise<{ one: EditingFleet; two: EditingFleet }> {
  scenario += 1;
  const one = new EditingFleet(`recovery-${scenario}-${name}-one`);
  const two = new EditingFleet(`recovery-${scenario}-${name}-two`);
  await Promise.all([
    one.add("s-ws", [solo.url], "ws"),
    one.add("s-sse", [solo.url], "sse"),
    two.add("p-ws", [viaProxy.url], "ws"),
    two.add("p-sse", [viaProxy.url], "sse"),
    two.add("d-ws", [direct.url], "ws"),
    two.add("d-sse", [direct.url], "sse"),
  ]);
  try {
    for (const fleet of [one, two]) fleet.type(2);
    await Promise.all([one.quiet(), two.quiet()]);
    await fault(
      () => {
        one.type(1);
        two.type(1);
      },
      { one, two },
    );
    for (const fleet of [one, two]) fleet.type(1);
    const read = (fleet: EditingFleet) => async () => (await store.getRecord(fleet.docId)).data as string;
    await Promise.all([one.converged(read(one), `${name}: one instance`), two.converged(read(two), `${name}: two instances`)]);
    // Redis kept its data: nothing was lost, so nothing was restored.
    for (const member of [...one.clients, ...two.clients]) {
      expect(member.states, member.label).not.toContain("lost");
      expect(member.restored, member.label).toEqual([]);
    }
    return { one, two };
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
}

/** Kill Redis (SIGKILL), keep typing, and start it again on the same port and data after `downMs`. */
async function killFor(downMs: number, typeDuring: () => void): Promise<void> {
  await redis.kill("SIGKILL");
  typeDuring();
  await pause(downMs / 2);
  typeDuring();
  await pause(downMs / 2);
  await redis.start();
}

describe("Redis with AOF killed and restarted with its data", () => {
  it("for 1 s", async () => {
    const { one, two } = await survive("kill-1s", (typeDuring) => killFor(1_000, typeDuring));
    // Edits typed while Redis was down were refused as `unavailable` and retried by the clients.
    expect([...one.clients, ...two.clients].some((m) => m.states.includes("waiting"))).toBe(true);
  }, 60_000);

  it("for 5 s, while /healthz says 503 and clients wait for the storage", async () => {
    const { one, two } = await survive("kill-5s", async (typeDuring) => {
      await redis.kill("SIGKILL");
      typeDuring();
      await waitUntil(async () => (await health(solo)) === 503 && (await health(direct)) === 503, "/healthz to say 503", 4_000, 100);
      await pause(2_000);
      typeDuring();
      await pause(2_000);
      await redis.start();
      await waitUntil(
        async () => (await health(solo)) === 200 && (await health(viaProxy)) === 200,
        "/healthz to say 200 again",
        10_000,
        100,
      );
    });
    for (const member of [...one.clients, ...two.clients]) expect(member.states, member.label).toContain("waiting");
  }, 60_000);

  it("for 30 s", async () => {
    await survive("kill-30s", (typeDuring) => killFor(30_000, typeDuring));
  }, 90_000);
});

/** Freeze Redis (SIGSTOP) for `frozenMs`, typing at the start and in the middle; /healthz must say 503 within the deadline. */
async function freezeFor(frozenMs: number, typeDuring: () => void): Promise<void> {
  process.kill(redis.pid!, "SIGSTOP");
  try {
    typeDuring();
    // A hung store is answered within the deadline, never by silence.
    await waitUntil(
      async () => (await health(direct)) === 503,
      "/healthz to say 503 within the storage deadline",
      STORAGE_TIMEOUT_MS * 3,
      100,
    );
    await pause(frozenMs / 2);
    typeDuring();
    await pause(frozenMs / 2);
  } finally {
    process.kill(redis.pid!, "SIGCONT");
  }
}

describe("Redis frozen (SIGSTOP) and thawed", () => {
  it("for 5 s", async () => {
    const { one, two } = await survive("stop-5s", (typeDuring) => freezeFor(5_000, typeDuring));
    for (const member of [...one.clients, ...two.clients]) expect(member.states, member.label).toContain("waiting");
  }, 60_000);

  it("for longer than every client and server timeout", async () => {
    // 7 s: past the storage deadline (1 s), the heartbeat (1 s + 2 s), a connect attempt (3 s),
    // the longest retry delays of clients and transports (1 s) and of the server's gap filling (5 s).
    await survive("stop-long", (typeDuring) => freezeFor(7_000, typeDuring));
  }, 60_000);
});

describe("one instance cut off from Redis (TCP fault proxy) while the other reaches it", () => {
  it("the cut instance's clients wait and catch up; the other instance's keep saving meanwhile", async () => {
    await survive("proxy-cut", async (typeDuring, { two }) => {
      proxy.refuse(true);
      proxy.cutAll();
      try {
        typeDuring();
        await waitUntil(
          async () => (await health(viaProxy)) === 503 && (await health(direct)) === 200,
          "/healthz: 503 on the cut instance only",
          5_000,
          100,
        );
        const onProxy = two.clients.filter((m) => m.label.startsWith("p-"));
        const onDirect = two.clients.filter((m) => m.label.startsWith("d-"));
        await waitUntil(
          () => onDirect.every((m) => m.client.connectionState === "live" && m.client.synced),
          "the other instance's clients to save",
          5_000,
          20,
        );
        await waitUntil(
          () => onProxy.every((m) => m.client.connectionState === "waiting"),
          "the cut instance's clients to wait for the storage",
          5_000,
          20,
        );
        await pause(1_500);
        typeDuring();
        await waitUntil(() => onDirect.every((m) => m.client.synced), "the other instance's clients to save again", 5_000, 20);
        expect(onProxy.every((m) => !m.client.synced)).toBe(true);
      } finally {
        proxy.refuse(false);
      }
    });
  }, 60_000);
});
