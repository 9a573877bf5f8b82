// The demo on a Redis Cluster (three masters, one replica each): two instances, with people on
// each over WebSocket and over SSE (the product's OTClient over the reconnecting wrapper), typing
// while the master that holds their document fails over to its replica: a manual failover
// (CLUSTER FAILOVER on the replica), and the master killed (SIGKILL) and brought back as a
// replica. Every client must end live with the cluster's text, every token it typed present
// exactly once, and none left waiting, refused or lost.
import { RedisAdapter } from "@open-ot/adapter-redis";
import { startRedisCluster, waitUntil, type RedisCluster } from "@open-ot/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleDemo, type DemoBundle } from "./support/demo-bundle.js";
import { DemoProcess } from "./support/demo-process.js";
import { EditingFleet } from "./support/editing-fleet.js";

let bundle: DemoBundle;
let cluster: RedisCluster;
let one: DemoProcess;
let two: DemoProcess;
let store: RedisAdapter;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  [bundle, cluster] = await Promise.all([bundleDemo(), startRedisCluster()]);
  const redisCluster = cluster.seeds.map((seed) => `${seed.host}:${seed.port}`).join(",");
  const args = ["--storage-timeout", "1000", "--rate-limit", "0", "--history", "100000"];
  one = new DemoProcess({ bundle, redisCluster, args });
  two = new DemoProcess({ bundle, redisCluster, args });
  await Promise.all([one.start(), two.start()]);
  store = new RedisAdapter([...cluster.seeds], { snapshotCacheSize: 0 });
}, 90_000);

afterAll(async () => {
  await store?.close();
  await Promise.allSettled([one?.stop(), two?.stop()]);
  await cluster?.stop();
  await bundle?.cleanup();
});

/** The port of the master that holds `docId`'s keys (they share one hash slot). */
async function masterOfDocument(docId: string): Promise<{ slot: number; master: number }> {
  const slot = Number(await cluster.cli(cluster.seeds[0]!.port, "cluster", "keyslot", `ot:{${docId}}:ops`));
  return { slot, master: await cluster.masterOf(slot) };
}

/**
 * Four people on `docId` (each instance a WebSocket and an SSE client) type, then keep typing
 * every 50 ms while `fault` runs, then once more; all must converge on the cluster's text.
 */
async function typeThrough(docId: string, fault: () => Promise<void>): Promise<EditingFleet> {
  const fleet = new EditingFleet(docId);
  await Promise.all([
    fleet.add("1-ws", [one.url], "ws"),
    fleet.add("1-sse", [one.url], "sse"),
    fleet.add("2-ws", [two.url], "ws"),
    fleet.add("2-sse", [two.url], "sse"),
  ]);
  try {
    fleet.type(2);
    await fleet.quiet();
    let faulting = true;
    const typing = (async () => {
      for (let round = 0; round < 400 && (faulting || round < 10); round++) {
        fleet.type(1);
        await pause(50);
      }
    })();
    try {
      await fault();
    } finally {
      faulting = false;
      await typing;
    }
    fleet.type(1);
    await fleet.converged(
      async () => (await store.getRecord(docId)).data as string,
      `${docId}: every client on the cluster's text`,
      45_000,
    );
    for (const member of fleet.clients) expect(member.states, member.label).not.toContain("lost");
    return fleet;
  } finally {
    await fleet.close();
  }
}

describe("the demo on a Redis Cluster, two instances, people typing over WebSocket and SSE", () => {
  it("the document's master fails over to its replica (CLUSTER FAILOVER)", async () => {
    const { slot, master } = await masterOfDocument("failover-doc");
    const [replica] = await cluster.replicasOf(master);
    expect(replica).toBeDefined();
    const fleet = await typeThrough("failover-doc", async () => {
      await pause(300);
      expect(await cluster.cli(replica!, "cluster", "failover")).toBe("OK");
      await waitUntil(
        async () => (await cluster.masterOf(slot, replica).catch(() => 0)) === replica,
        "the replica to take over",
        15_000,
        50,
      );
      await pause(500);
    });
    expect(await cluster.masterOf(slot)).toBe(replica);
    expect(fleet.clients.reduce((sum, member) => sum + member.tokens.length, 0)).toBeGreaterThan(40);
    await cluster.waitHealthy();
  }, 90_000);

  it("the document's master is killed (SIGKILL): its replica takes over, the old master comes back as a replica", async () => {
    const { slot, master } = await masterOfDocument("killed-doc");
    const [replica] = await cluster.replicasOf(master);
    expect(replica).toBeDefined();
    const node = cluster.nodes.find((n) => n.port === master)!;
    const fleet = await typeThrough("killed-doc", async () => {
      await pause(300);
      await node.kill("SIGKILL");
      await waitUntil(
        async () => (await cluster.masterOf(slot, replica).catch(() => 0)) === replica,
        "the replica to take over",
        20_000,
        50,
      );
      // Commits wait for a replica (the adapter's default): bring the killed node back, as an orchestrator would.
      await node.start();
      await pause(500);
    });
    expect(await cluster.masterOf(slot, replica)).toBe(replica);
    // The fault was felt: commits went unanswered until the replica took over, and clients waited.
    expect(fleet.clients.some((member) => member.states.includes("waiting"))).toBe(true);
    await cluster.waitHealthy();
  }, 120_000);
});
