import { RedisAdapter } from "@open-ot/adapter-redis";
import { describe, expect, it } from "vitest";
import { launchRedisServer } from "../src/redis-launcher.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("launchRedisServer (the scaling demo's own redis-server)", () => {
  it("starts a usable Redis on a free loopback port and stops it", async () => {
    const redis = await launchRedisServer();
    expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const adapter = new RedisAdapter(redis.url);
    try {
      await adapter.createDocument("launch-check", "text", "hello");
      expect((await adapter.getRecord("launch-check")).data).toBe("hello");
    } finally {
      await adapter.close();
    }
    await Promise.all([redis.stop(), redis.stop()]);
    expect(alive(redis.pid)).toBe(false);
  });

  it("says how to install Redis when the binary is missing", async () => {
    await expect(launchRedisServer({ binary: "/nonexistent/redis-server" })).rejects.toThrow(/not found: install Redis.*REDIS_URL/);
  });
});
