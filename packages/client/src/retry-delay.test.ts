import { describe, expect, it } from "vitest";
import { retryDelay, retrySettings } from "./retry-delay.js";

describe("retryDelay", () => {
  it("doubles the window per attempt up to maxDelay, with full jitter", () => {
    expect([1, 2, 3, 4, 10].map((n) => retryDelay(n, 0.999999, 500, 3_000))).toEqual([
      expect.closeTo(500, 0),
      expect.closeTo(1_000, 0),
      expect.closeTo(2_000, 0),
      expect.closeTo(3_000, 0),
      expect.closeTo(3_000, 0),
    ]);
    expect(retryDelay(5, 0, 500, 3_000)).toBe(0);
    expect(retryDelay(1, 0.5, 500, 3_000)).toBe(250);
    // Huge attempt numbers overflow the power to Infinity; min() keeps the cap.
    expect(retryDelay(5_000, 0.5, 500, 3_000)).toBe(1_500);
  });

  it("refuses settings that are not finite non-negative numbers", () => {
    expect(() => retrySettings({ initialDelay: -1 })).toThrow(/retry.initialDelay/);
    expect(() => retrySettings({ maxDelay: Infinity })).toThrow(/retry.maxDelay/);
    expect(retrySettings()).toMatchObject({ initialDelay: 500, maxDelay: 15_000 });
  });
});
