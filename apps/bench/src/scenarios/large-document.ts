import { formatTable, num, ratio } from "../report/table.js";
import { check, type TargetCheck } from "../report/target-check.js";
import type { SystemName } from "../server-fleet.js";
import { runLoad, troubleNote, type LoadRunResult } from "./load-run.js";

/** Options of the large-document scenario (workload 5). */
export interface LargeDocumentOptions {
  /** Document sizes in characters. @default [1000, 100000, 1000000] */
  readonly sizes: readonly number[];
  /** Backends. @default ["openot", "openot-redis"] */
  readonly systems: readonly SystemName[];
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly profileDir?: string;
}

/** The runs of workload 5 (one client each). */
export interface LargeDocumentResult {
  readonly runs: LoadRunResult[];
}

/**
 * Workload 5: one client editing documents of growing size; the server-side time per commit
 * (in `Server.submitOperation`) must not grow with the size.
 */
export async function runLargeDocument(options: LargeDocumentOptions, log: (line: string) => void): Promise<LargeDocumentResult> {
  const runs: LoadRunResult[] = [];
  for (const system of options.systems) {
    for (const size of options.sizes) {
      const run = await runLoad({
        system,
        clients: 1,
        instances: 1,
        docSize: size,
        seconds: options.seconds,
        warmupSeconds: options.warmupSeconds,
        ...(options.profileDir === undefined ? {} : { profileDir: options.profileDir, profileName: `large-${system}-${size}` }),
      });
      runs.push(run);
      log(`  large document ${system} ${size} chars: ${num(run.opsPerSec, 0)} ops/s, commit p50 ${num(run.commit?.p50, 3)} ms${troubleNote(run)}`);
    }
  }
  return { runs };
}

function sizeLabel(chars: number): string {
  return chars >= 1_000_000 ? `${chars / 1_000_000} MB` : chars >= 1000 ? `${chars / 1000} KB` : `${chars} B`;
}

/** The table of workload 5. */
export function formatLargeDocument(result: LargeDocumentResult): string {
  const rows = result.runs.map((r) => {
    const smallest = result.runs.find((s) => s.system === r.system);
    return [
      `${r.system} ${sizeLabel(r.docSize)}`,
      num(r.opsPerSec, 0),
      num(r.commit?.mean, 3),
      num(r.commit?.p50, 3),
      num(r.commit?.p99, 3),
      ratio(r.commit?.p50, smallest?.commit?.p50),
      num(r.ack.p50, 2),
      num(r.ack.p99, 2),
      r.serverCpu.map((c) => num(c, 2)).join("+"),
      r.driverCpu.map((c) => num(c, 2)).join("+"),
      r.converged === true ? "yes" : "NO",
    ];
  });
  return [
    "Workload 5, large document: 1 client, one op in flight (server commit time = Server.submitOperation, ms)",
    formatTable(["system / size", "ops/s", "commit mean", "p50", "p99", "p50 vs smallest", "ack p50", "ack p99", "srv cpu", "drv cpu", "conv"], rows),
  ].join("\n");
}

/** The target for workload 5: commit time at the largest size within 1.5x of the smallest. */
export function largeDocumentTargets(result: LargeDocumentResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const system of new Set(result.runs.map((r) => r.system))) {
    const runs = result.runs.filter((r) => r.system === system);
    const small = runs[0];
    const large = runs[runs.length - 1];
    if (small === undefined || large === undefined || small === large) continue;
    const p50 = (r: LoadRunResult): number | undefined => r.commit?.p50;
    const a = p50(large);
    const b = p50(small);
    checks.push(
      check(
        `${system}: commit p50 at ${sizeLabel(large.docSize)} / at ${sizeLabel(small.docSize)}`,
        "≤ 1.5x",
        a === undefined || b === undefined ? undefined : a / b,
        (v) => `${v.toFixed(2)}x`,
        (v) => v <= 1.5,
      ),
    );
  }
  return checks;
}

/** Flat figures for baseline comparison. */
export function largeDocumentMetrics(result: LargeDocumentResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of result.runs) {
    const key = `large/${r.system}/${r.docSize}`;
    out[`${key}/opsPerSec`] = r.opsPerSec;
    if (r.commit !== undefined) out[`${key}/commitP50Ms`] = r.commit.p50;
    if (r.commit !== undefined) out[`${key}/commitMeanMs`] = r.commit.mean;
  }
  return out;
}
