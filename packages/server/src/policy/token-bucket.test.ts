import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("allows a burst of `capacity`, then refills at the rate", () => {
    let now = 1_000;
    const bucket = new TokenBucket(10, 5, () => now);
    expect(Array.from({ length: 7 }, () => bucket.take())).toEqual([true, true, true, true, true, false, false]);
    expect(bucket.waitFor(1)).toBe(100);
    now += 100; // 10/s: one token per 100 ms
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it("takes a batch whole or not at all: nothing passes on credit", () => {
    let now = 0;
    const bucket = new TokenBucket(1, 3, () => now);
    expect(bucket.take(2)).toBe(true);
    expect(bucket.take(2)).toBe(false);
    expect(bucket.take(1)).toBe(true);
    now += 1_000;
    expect(bucket.take(1)).toBe(true);
  });

  it("never holds more than its capacity, and says a cost above it can never pass", () => {
    let now = 0;
    const bucket = new TokenBucket(100, 4, () => now);
    now += 60_000;
    expect(bucket.take(5)).toBe(false);
    expect(bucket.waitFor(5)).toBe(Infinity);
    expect(bucket.take(4)).toBe(true);
  });

  it("does not refill when the clock goes backwards", () => {
    let now = 5_000;
    const bucket = new TokenBucket(10, 1, () => now);
    expect(bucket.take()).toBe(true);
    now = 0;
    expect(bucket.take()).toBe(false);
  });

  it("rejects settings that would never let anything through", () => {
    expect(() => new TokenBucket(0, 5)).toThrow(RangeError);
    expect(() => new TokenBucket(5, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, 5)).toThrow(RangeError);
    expect(() => new TokenBucket(5, Infinity)).toThrow(RangeError);
    expect(() => new TokenBucket(0.5, 1.5)).not.toThrow();
  });
});
