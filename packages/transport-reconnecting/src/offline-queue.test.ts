import { describe, expect, it } from "vitest";
import { DEFAULT_OFFLINE_QUEUE, jsonByteLength, OfflineQueue } from "./offline-queue.js";
import { ReconnectingTransportError } from "./reconnecting-transport-error.js";

/** `value()` is "pending", "resolved", or the rejection reason. */
function settled(promise: Promise<void>): { value: () => unknown } {
  let state: unknown = "pending";
  promise.then(
    () => (state = "resolved"),
    (error: unknown) => (state = error),
  );
  return { value: () => state };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("OfflineQueue", () => {
  it("measures messages as the UTF-8 length of their JSON", () => {
    expect(jsonByteLength({ t: "é" })).toBe('{"t":"é"}'.length + 1);
    expect(jsonByteLength("🌍")).toBe(6);
    expect(DEFAULT_OFFLINE_QUEUE).toEqual({ maxMessages: 1000, maxBytes: 1024 * 1024 });
  });

  it("refuses the message past maxMessages with queue_full, keeping the others", async () => {
    const queue = new OfflineQueue<number>({ maxMessages: 3 });
    const kept = [1, 2, 3].map((n) => queue.enqueue(n));
    const error = await queue.enqueue(4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReconnectingTransportError);
    expect((error as ReconnectingTransportError).code).toBe("queue_full");
    expect((error as Error).message).toMatch(/queue.maxMessages = 3/);
    expect(queue.length).toBe(3);
    const sent: number[] = [];
    queue.flush(async (n) => {
      sent.push(n);
    });
    await Promise.all(kept);
    expect(sent).toEqual([1, 2, 3]);
  });

  it("refuses a message that would pass maxBytes, and accepts smaller ones after", async () => {
    const queue = new OfflineQueue<string>({ maxBytes: 20 });
    void queue.enqueue("aaaaaaaa"); // 10 bytes with quotes
    expect(queue.bytes).toBe(10);
    const error = await queue.enqueue("bbbbbbbbbb").catch((e: unknown) => e); // 12 bytes
    expect((error as ReconnectingTransportError).code).toBe("queue_full");
    expect((error as Error).message).toMatch(/queue.maxBytes = 20/);
    void queue.enqueue("cccccccc");
    expect(queue.bytes).toBe(20);
    expect(queue.length).toBe(2);
  });

  it("uses a custom measure", () => {
    const queue = new OfflineQueue<string>({ maxBytes: 2, measure: () => 1 });
    void queue.enqueue("x".repeat(100));
    void queue.enqueue("y".repeat(100));
    expect(queue.bytes).toBe(2);
  });

  it("keeps sends pending until flush hands them over, in order, and settles each with its hand-over", async () => {
    const queue = new OfflineQueue<string>();
    const a = settled(queue.enqueue("a"));
    const b = settled(queue.enqueue("b"));
    const c = settled(queue.enqueue("c"));
    await tick();
    expect([a.value(), b.value(), c.value()]).toEqual(["pending", "pending", "pending"]);
    const order: string[] = [];
    const failure = new Error("wire broke");
    queue.flush((m) => {
      order.push(m);
      if (m === "b") return Promise.reject(failure);
      if (m === "c") throw new Error("sync throw");
      return Promise.resolve();
    });
    // Handed over synchronously: nothing sent after flush() can overtake the queue.
    expect(order).toEqual(["a", "b", "c"]);
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
    await tick();
    expect(a.value()).toBe("resolved");
    expect(b.value()).toBe(failure);
    expect((c.value() as Error).message).toBe("sync throw");
  });

  it("rejectAll rejects every queued send with the given error and empties the queue", async () => {
    const queue = new OfflineQueue<number>();
    const sends = [queue.enqueue(1), queue.enqueue(2)];
    const error = new ReconnectingTransportError("stopped", "gone");
    queue.rejectAll(error);
    expect(queue.length).toBe(0);
    for (const send of sends) await expect(send).rejects.toBe(error);
  });

  it("rejects a message that cannot be measured", async () => {
    const queue = new OfflineQueue<unknown>();
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    await expect(queue.enqueue(cyclic)).rejects.toThrow(TypeError);
    expect(queue.length).toBe(0);
  });

  it("refuses bad bounds", () => {
    expect(() => new OfflineQueue({ maxMessages: 0 })).toThrow(/queue.maxMessages/);
    expect(() => new OfflineQueue({ maxBytes: Number.NaN })).toThrow(/queue.maxBytes/);
  });
});
