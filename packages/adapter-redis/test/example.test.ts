// The README's example runs, against a private redis-server, and does what the README says.
import { afterEach, beforeEach, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "@open-ot/harness";
// @ts-expect-error -- a plain JavaScript example without type declarations
import { twoInstances } from "../examples/two-instances.mjs";

let redis: RedisServer;
beforeEach(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await redis.stop();
});

it("two instances sharing Redis: the later commit is transformed, and both commits are heard", async () => {
  const printed: unknown[] = [];
  const result = (await twoInstances(redis.url, (value: unknown) => printed.push(value))) as {
    fromA: { revision: number };
    fromB: { op: unknown; revision: number };
    text: string;
    heard: { revision: number }[];
  };
  expect(result.fromA.revision).toBe(1);
  expect(result.fromB).toEqual({ op: [{ r: 7 }, { i: "world" }], revision: 2 });
  expect(result.text).toBe("Hello, world");
  expect(result.heard.map((n) => n.revision)).toEqual([1, 2]);
  expect(printed).toEqual([result.fromB, "Hello, world", [1, 2]]);
});
