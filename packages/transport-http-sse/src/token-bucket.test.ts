import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("allows a burst, then refills at the rate", () => {
    let now = 1_000;
    const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, () => now);
    expect(bucket.take(5)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    expect(bucket.waitFor(1)).toBe(100);
    now += 100;
    expect(bucket.take(1)).toBe(true);
    expect(bucket.take(1)).toBe(false);
  });

  it("takes nothing when a request does not fit", () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 1, burst: 3 }, () => now);
    expect(bucket.take(2)).toBe(true);
    expect(bucket.take(2)).toBe(false);
    expect(bucket.take(1)).toBe(true);
    now += 1_000;
    expect(bucket.take(1)).toBe(true);
  });

  it("never holds more than the burst, and says a request above it can never pass", () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 100, burst: 4 }, () => now);
    now += 60_000;
    expect(bucket.take(5)).toBe(false);
    expect(bucket.waitFor(5)).toBe(Infinity);
    expect(bucket.take(4)).toBe(true);
  });

  it("refuses settings that would never let anything through", () => {
    expect(() => new TokenBucket({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
