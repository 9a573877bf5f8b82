import { readFileSync } from "node:fs";
import { formatTable, num } from "./table.js";

/** Figures where a smaller value is better end in one of these. */
const LOWER_IS_BETTER = /(Ms|Bytes|Seconds|UsPerOp|peakToAverage)$/;

/** One figure compared with the baseline. */
export interface BaselineDelta {
  readonly key: string;
  readonly baseline: number;
  readonly current: number;
  /** (current - baseline) / baseline. */
  readonly change: number;
  /** True when the change is for the better (more ops/s, less latency, memory, time). */
  readonly better: boolean;
}

/** Read the `metrics` map of an earlier results file. */
export function readBaselineMetrics(file: string): Record<string, number> {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { metrics?: Record<string, number> };
  if (parsed.metrics === undefined)
    throw new Error(`${file} has no "metrics" map; pass a results file written by this bench (apps/bench/results/*.json)`);
  return parsed.metrics;
}

/** Compare every figure present in both runs. */
export function compareWithBaseline(baseline: Record<string, number>, current: Record<string, number>): BaselineDelta[] {
  const deltas: BaselineDelta[] = [];
  for (const [key, value] of Object.entries(current)) {
    const base = baseline[key];
    if (base === undefined || base === null || !Number.isFinite(base) || !Number.isFinite(value) || base === 0) continue;
    const change = (value - base) / base;
    deltas.push({ key, baseline: base, current: value, change, better: LOWER_IS_BETTER.test(key) ? change < 0 : change > 0 });
  }
  return deltas;
}

/** The comparison as a table. */
export function formatBaseline(file: string, deltas: readonly BaselineDelta[]): string {
  const rows = deltas.map((d) => [
    d.key,
    num(d.baseline, 2),
    num(d.current, 2),
    `${d.change >= 0 ? "+" : ""}${(100 * d.change).toFixed(1)}%`,
    Math.abs(d.change) < 0.05 ? "~" : d.better ? "better" : "worse",
  ]);
  return [`Compared with ${file} (changes under 5% marked ~)`, formatTable(["figure", "baseline", "now", "change", ""], rows)].join("\n");
}
