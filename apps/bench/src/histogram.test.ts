import { describe, expect, it } from "vitest";
import { seededRandom } from "@open-ot/harness";
import { Histogram } from "./histogram.js";

function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

describe("Histogram", () => {
  it("answers quantiles within 1% of the exact value over six orders of magnitude", () => {
    const random = seededRandom(7);
    const samples = Array.from({ length: 20_000 }, () => 0.01 * 10 ** (random() * 6));
    const h = new Histogram();
    for (const s of samples) h.record(s);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.0101);
    }
    expect(h.summary().max).toBe(sorted[sorted.length - 1]);
    expect(h.summary().count).toBe(samples.length);
  });

  it("merges, also from its serialised form, as if all samples had been recorded in one", () => {
    const random = seededRandom(3);
    const all = new Histogram();
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 5000; i++) {
      const v = random() * 100;
      all.record(v);
      (i % 2 === 0 ? a : b).record(v);
    }
    const merged = Histogram.from(JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<Histogram["toJSON"]>);
    merged.merge(b);
    expect(merged.summary()).toEqual(all.summary());
  });

  it("is empty after reset and reports NaN quantiles when empty", () => {
    const h = new Histogram();
    h.record(5);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.quantile(0.5)).toBeNaN();
  });
});
