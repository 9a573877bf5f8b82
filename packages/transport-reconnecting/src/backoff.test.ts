import { describe, expect, it } from "vitest";
import { backoffCeiling, DEFAULT_BACKOFF, exponentialBackoff } from "./backoff.js";

const draws = [0, 0.001, 0.25, 0.5, 0.75, 0.999999];

describe("exponentialBackoff (full jitter)", () => {
  it("stays within [0, min(maxDelay, initialDelay * factor^(attempt-1))) for every draw", () => {
    const options = { initialDelay: 100, maxDelay: 5000, factor: 3 };
    const backoff = exponentialBackoff(options);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(options.maxDelay, options.initialDelay * options.factor ** (attempt - 1));
      for (const random of draws) {
        const delay = backoff(attempt, random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
        expect(delay).toBeCloseTo(random * ceiling, 6);
      }
    }
  });

  it("is pure: the same attempt and draw give the same delay", () => {
    const backoff = exponentialBackoff();
    expect(backoff(4, 0.37)).toBe(backoff(4, 0.37));
  });

  it("spans the whole window: the lowest draw gives 0, the highest nearly the ceiling", () => {
    const backoff = exponentialBackoff({ initialDelay: 1000, maxDelay: 60_000, factor: 2 });
    expect(backoff(3, 0)).toBe(0);
    expect(backoff(3, 0.999999)).toBeGreaterThan(3999);
  });

  it("grows the ceiling by `factor` per attempt until the cap", () => {
    const initialDelay = 50;
    const factor = 2.5;
    const maxDelay = 10_000;
    for (let attempt = 1; attempt < 20; attempt++) {
      const here = backoffCeiling(attempt, initialDelay, maxDelay, factor);
      const next = backoffCeiling(attempt + 1, initialDelay, maxDelay, factor);
      if (next < maxDelay) expect(next / here).toBeCloseTo(factor, 9);
      else expect(next).toBe(maxDelay);
    }
  });

  it("caps every delay at maxDelay, even after enough failures to overflow factor^n", () => {
    const backoff = exponentialBackoff({ initialDelay: 500, maxDelay: 30_000, factor: 2 });
    for (const attempt of [20, 100, 5000, Number.MAX_SAFE_INTEGER, Infinity]) {
      const delay = backoff(attempt, 0.999999);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBeLessThanOrEqual(30_000);
      expect(delay).toBeGreaterThan(29_000);
    }
  });

  it("treats attempts below 1 (and NaN) as the first, and clamps a draw outside [0, 1)", () => {
    const backoff = exponentialBackoff({ initialDelay: 800, maxDelay: 10_000, factor: 2 });
    expect(backoff(0, 0.5)).toBe(400);
    expect(backoff(Number.NaN, 0.5)).toBe(400);
    expect(backoff(1, -3)).toBe(0);
    expect(backoff(1, Number.NaN)).toBe(0);
    expect(backoff(1, 7)).toBeLessThan(800);
  });

  it("uses the documented defaults", () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialDelay: 500, maxDelay: 30_000, factor: 2 });
    const backoff = exponentialBackoff();
    expect(backoff(1, 0.5)).toBe(250);
    expect(backoff(3, 0.5)).toBe(1000);
    expect(backoff(50, 0.5)).toBe(15_000);
  });

  it("an initialDelay of 0 always retries at once", () => {
    const backoff = exponentialBackoff({ initialDelay: 0 });
    expect(backoff(1, 0.9)).toBe(0);
    expect(backoff(10_000, 0.9)).toBe(0);
  });

  it("refuses bad options with a message naming the option", () => {
    expect(() => exponentialBackoff({ initialDelay: -1 })).toThrow(/backoff.initialDelay/);
    expect(() => exponentialBackoff({ maxDelay: Number.NaN })).toThrow(/backoff.maxDelay/);
    expect(() => exponentialBackoff({ factor: 0.5 })).toThrow(/backoff.factor/);
  });
});
