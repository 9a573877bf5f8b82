// The server loses a document while tabs hold copies of it and keep typing: the in-memory demo
// restarted, and a Redis without persistence restarted under two instances. The document must
// come back (from exactly one tab's copy) with every tab's text once and none of a tab's own
// edits dropped, and every tab must end live with the server's text.
import { RedisAdapter } from "@open-ot/adapter-redis";
import { startRedisServer, type RedisServer } from "@open-ot/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleDemo, type DemoBundle } from "./support/demo-bundle.js";
import { DemoProcess } from "./support/demo-process.js";
import { EditingFleet, textSeenByNewcomer } from "./support/editing-fleet.js";

const ARGS = ["--storage-timeout", "1000", "--rate-limit", "0", "--history", "100000"];
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let bundle: DemoBundle;

beforeAll(async () => {
  bundle = await bundleDemo();
}, 60_000);

afterAll(async () => {
  await bundle?.cleanup();
});

/** One tab's copy won (`restored`); every other tab rebased onto it. */
function expectOneWinner(fleet: EditingFleet): void {
  const outcomes = fleet.clients.map((m) => m.restored.map((r) => r.outcome).join(","));
  expect(
    outcomes.filter((o) => o === "restored"),
    `outcomes: ${outcomes.join(" | ")}`,
  ).toHaveLength(1);
  expect(
    outcomes.filter((o) => o === "rebased"),
    `outcomes: ${outcomes.join(" | ")}`,
  ).toHaveLength(fleet.clients.length - 1);
}

describe("the in-memory demo server restarted with three tabs open", () => {
  let server: DemoProcess;

  afterAll(async () => {
    await server?.stop();
  });

  it("comes back from one tab's copy with every tab's text once, edits typed while it was down included", async () => {
    server = new DemoProcess({ bundle, args: ARGS });
    await server.start();
    const fleet = new EditingFleet("memory-restart");
    try {
      await fleet.add("tab1", [server.url], "ws");
      await fleet.add("tab2", [server.url], "sse");
      await fleet.add("tab3", [server.url], "ws");
      fleet.type(3);
      await fleet.quiet();

      expect(await server.stop()).toBe(0);
      fleet.type(1);
      await pause(700);
      fleet.type(1);
      await server.start();
      fleet.type(1);

      const text = await fleet.converged(() => textSeenByNewcomer(server.url, fleet.docId), "the restarted in-memory server");
      expect(text.length).toBe(fleet.clients.reduce((n, m) => n + m.tokens.join("").length, 0));
      expectOneWinner(fleet);
    } finally {
      await fleet.close();
    }
  }, 60_000);
});

describe("a Redis without persistence restarted under two instances", () => {
  let redis: RedisServer;
  let one: DemoProcess;
  let two: DemoProcess;

  afterAll(async () => {
    await Promise.allSettled([one?.stop(), two?.stop()]);
    await redis?.stop();
  });

  it("comes back from one tab's copy, every tab's text once, on both instances and both transports", async () => {
    redis = await startRedisServer();
    one = new DemoProcess({ bundle, redisUrl: redis.url, args: ARGS });
    two = new DemoProcess({ bundle, redisUrl: redis.url, args: ARGS });
    await Promise.all([one.start(), two.start()]);
    const fleet = new EditingFleet("redis-no-persistence");
    const store = new RedisAdapter(redis.url);
    try {
      await fleet.add("one-ws", [one.url], "ws");
      await fleet.add("one-sse", [one.url], "sse");
      await fleet.add("two-ws", [two.url], "ws");
      await fleet.add("two-sse", [two.url], "sse");
      fleet.type(2);
      await fleet.quiet();

      await redis.kill("SIGKILL");
      fleet.type(1);
      await pause(700);
      fleet.type(1);
      await redis.start(); // empty: no persistence
      fleet.type(1);

      const text = await fleet.converged(async () => (await store.getRecord(fleet.docId)).data as string, "the emptied Redis");
      expect(text.length).toBe(fleet.clients.reduce((n, m) => n + m.tokens.join("").length, 0));
      expectOneWinner(fleet);
    } finally {
      await fleet.close();
      await store.close();
    }
  }, 60_000);
});
