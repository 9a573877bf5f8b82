import { describe, expect, it } from "vitest";
import { KeyedQueue } from "./keyed-queue.js";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("KeyedQueue", () => {
  it("runs tasks of one key one at a time, in order, and other keys concurrently", async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const gate = deferred();
    const first = queue.run("a", async () => {
      log.push("a1 start");
      await gate.promise;
      log.push("a1 end");
      return 1;
    });
    const second = queue.run("a", async () => {
      log.push("a2");
      return 2;
    });
    const other = queue.run("b", async () => {
      log.push("b1");
      return 3;
    });
    await other;
    expect(log).toEqual(["a1 start", "b1"]);
    gate.resolve();
    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
    expect(log).toEqual(["a1 start", "b1", "a1 end", "a2"]);
  });

  it("keeps going after a failed task and forgets idle keys", async () => {
    const queue = new KeyedQueue();
    const failed = queue.run("a", () => Promise.reject(new Error("task failed")));
    const next = queue.run("a", () => Promise.resolve("ran"));
    await expect(failed).rejects.toThrow("task failed");
    await expect(next).resolves.toBe("ran");
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(queue.size).toBe(0);
  });
});
