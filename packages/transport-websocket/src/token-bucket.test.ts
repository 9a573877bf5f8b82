import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("allows a burst of `capacity`, then refuses until time refills it", () => {
    let now = 1_000;
    const bucket = new TokenBucket(10, 5, () => now);
    const burst = Array.from({ length: 7 }, () => bucket.take());
    expect(burst).toEqual([true, true, true, true, true, false, false]);
    now += 100; // 10/s: one token per 100 ms
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it("never holds more than its capacity", () => {
    let now = 0;
    const bucket = new TokenBucket(100, 3, () => now);
    now += 60_000;
    expect(bucket.available()).toBe(3);
  });

  it("lets a batch larger than the capacity through once, then keeps the sender waiting off the debt", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 5, () => now);
    expect(bucket.take(25)).toBe(true);
    expect(bucket.available()).toBe(-20);
    now += 2_000; // repays the 20-token debt exactly
    expect(bucket.take()).toBe(false);
    now += 100;
    expect(bucket.take()).toBe(true);
  });

  it("does not refill when the clock goes backwards", () => {
    let now = 5_000;
    const bucket = new TokenBucket(10, 1, () => now);
    expect(bucket.take()).toBe(true);
    now = 0;
    expect(bucket.take()).toBe(false);
  });

  it("rejects nonsensical settings", () => {
    expect(() => new TokenBucket(0, 5)).toThrow(RangeError);
    expect(() => new TokenBucket(5, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, 5)).toThrow(RangeError);
  });
});
