// Tests of the Redis Cluster launcher against real redis-server processes.
import { Cluster } from "ioredis";
import { describe, expect, it } from "vitest";
import { startRedisCluster } from "../src/index.js";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startRedisCluster", () => {
  it("starts three masters with a replica each, serving every slot, and stops them by PID", async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    const pids = cluster.nodes.map((node) => node.pid!);
    try {
      expect(cluster.nodes).toHaveLength(6);
      expect(pids.every(isAlive)).toBe(true);
      const client = new Cluster([...cluster.seeds], { redisOptions: { maxRetriesPerRequest: 0 } });
      try {
        // Keys on different slots reach their masters.
        for (let i = 0; i < 20; i++) await client.set(`key-${i}`, String(i));
        for (let i = 0; i < 20; i++) expect(await client.get(`key-${i}`)).toBe(String(i));
      } finally {
        client.disconnect();
      }
      const master = await cluster.masterOf(0);
      expect(await cluster.replicasOf(master)).toHaveLength(1);
      const masters = new Set(await Promise.all([0, 6000, 12000].map(async (slot) => await cluster.masterOf(slot))));
      expect(masters.size).toBe(3);
    } finally {
      await cluster.stop();
    }
    expect(pids.some(isAlive)).toBe(false);
    expect(cluster.nodes.every((node) => node.pid === undefined)).toBe(true);
  }, 40_000);
});
