// Tests of the redis-server launcher against a real redis-server.
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../src/index.js";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function withClient<T>(url: string, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

describe("startRedisServer", () => {
  let server: RedisServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("starts a private server on a loopback port that answers commands", async () => {
    server = await startRedisServer();
    expect(server.port).not.toBe(6379);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const pid = server.pid;
    expect(pid).toBeTypeOf("number");
    expect(isAlive(pid!)).toBe(true);
    await withClient(server.url, async (redis) => {
      expect(await redis.set("k", "v")).toBe("OK");
      expect(await redis.get("k")).toBe("v");
      // No persistence unless asked: no save points, no AOF.
      expect(await redis.config("GET", "save")).toEqual(["save", ""]);
      expect(await redis.config("GET", "appendonly")).toEqual(["appendonly", "no"]);
    });
  });

  it("shutdown() with save then start() keeps the data, on the same port", async () => {
    server = await startRedisServer();
    const port = server.port;
    const firstPid = server.pid!;
    await withClient(server.url, (redis) => redis.set("kept", "yes"));
    await server.shutdown();
    expect(server.pid).toBeUndefined();
    expect(isAlive(firstPid)).toBe(false);
    await server.start();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(firstPid);
    expect(await withClient(server.url, (redis) => redis.get("kept"))).toBe("yes");
  });

  it("kill() loses unsaved data, like a crash", async () => {
    server = await startRedisServer();
    await withClient(server.url, (redis) => redis.set("lost", "yes"));
    const pid = server.pid!;
    await server.kill();
    expect(isAlive(pid)).toBe(false);
    await server.start();
    expect(await withClient(server.url, (redis) => redis.get("lost"))).toBeNull();
  });

  it("restart({ save: false }) discards the data", async () => {
    server = await startRedisServer();
    await withClient(server.url, (redis) => redis.set("gone", "yes"));
    await server.restart({ save: false });
    expect(await withClient(server.url, (redis) => redis.get("gone"))).toBeNull();
  });

  it("stop() ends the process by PID and refuses a later start", async () => {
    server = await startRedisServer();
    const pid = server.pid!;
    await server.stop();
    expect(isAlive(pid)).toBe(false);
    await expect(server.start()).rejects.toThrow(/stopped/);
    await server.stop(); // twice is fine
  });

  it("says how to install redis-server when the binary is missing", async () => {
    await expect(startRedisServer({ binary: "/nonexistent/redis-server" })).rejects.toThrow(/apt-get install redis-server/);
  });
});
