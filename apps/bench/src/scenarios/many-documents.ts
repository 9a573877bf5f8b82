import { formatTable, num } from "../report/table.js";
import type { TargetCheck } from "../report/target-check.js";
import type { LoadClientKind } from "../drivers/load-client.js";
import type { SystemName } from "../server-fleet.js";
import { runLoad, troubleNote, type LoadRunResult } from "./load-run.js";

/** Options of the many-documents scenario (workload 2). */
export interface ManyDocumentsOptions {
  /** Clients in total. @default 1000 */
  readonly clients: number;
  /** Documents they are spread over. @default 100 */
  readonly docs: number;
  /** OpenOT instances sharing Redis. @default 2 */
  readonly instances: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly docSize: number;
  readonly drivers: number;
  readonly batch: boolean;
  /** Which client makes the load. @default "raw" */
  readonly loadClient?: LoadClientKind;
  readonly profileDir?: string;
  /** Where the instances keep their documents: one Redis, or a Redis Cluster. @default "openot-redis" */
  readonly system?: Extract<SystemName, "openot-redis" | "openot-cluster">;
}

/** ` (load from otclient)` for a run made with the product's client, empty for the raw client. */
function loadNote(run: LoadRunResult): string {
  return run.loadClient === "raw" ? "" : ` (load from ${run.loadClient})`;
}

/** Workload 2: many clients over many documents, instances sharing Redis. */
export async function runManyDocuments(options: ManyDocumentsOptions, log: (line: string) => void): Promise<LoadRunResult> {
  const run = await runLoad({
    system: options.system ?? "openot-redis",
    clients: options.clients,
    docs: options.docs,
    instances: options.instances,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    docSize: options.docSize,
    drivers: options.drivers,
    batch: options.batch,
    ...(options.loadClient === undefined ? {} : { loadClient: options.loadClient }),
    ...(options.profileDir === undefined
      ? {}
      : {
          profileDir: options.profileDir,
          profileName: `many-docs${options.loadClient === undefined || options.loadClient === "raw" ? "" : `-${options.loadClient}`}`,
        }),
  });
  log(
    `  many documents (${run.system})${loadNote(run)}: ${num(run.opsPerSec, 0)} ops/s, ack p99 ${num(run.ack.p99, 2)} ms, converged: ${String(run.converged)}${troubleNote(run)}`,
  );
  return run;
}

/** The table of workload 2. */
export function formatManyDocuments(run: LoadRunResult): string {
  return [
    `Workload 2, many documents: ${run.clients} clients over ${run.docs} documents, ${run.instances} instances + ${run.system === "openot-cluster" ? "a Redis Cluster (3 masters, 1 replica each)" : "Redis"} (ms)${loadNote(run)}`,
    formatTable(
      ["ops/s", "ack p50", "p95", "p99", "bcast p50", "p99", "x-inst p50", "p99", "conv", "srv cpu", "drv cpu", "drv µs/msg"],
      [
        [
          num(run.opsPerSec, 0),
          num(run.ack.p50, 2),
          num(run.ack.p95, 2),
          num(run.ack.p99, 2),
          num(run.broadcastSame.p50, 2),
          num(run.broadcastSame.p99, 2),
          num(run.broadcastCross.p50, 2),
          num(run.broadcastCross.p99, 2),
          run.convergenceShort,
          run.serverCpu.map((c) => num(c, 2)).join("+"),
          run.driverCpu.map((c) => num(c, 2)).join("+"),
          num(run.driverUsPerMessage, 1),
        ],
      ],
    ),
    ...(run.converged === false ? [`not converged: ${run.convergenceNote}`] : []),
    ...(Object.keys(run.errors).length > 0 ? [troubleNote(run).replace(/^; /, "")] : []),
  ].join("\n");
}

/** Workload 2 has no figure target; convergence is checked. */
export function manyDocumentsTargets(run: LoadRunResult): TargetCheck[] {
  return [
    {
      name: `many documents${loadNote(run)}: all ${run.docs} documents converged`,
      target: "all",
      measured: run.converged === true ? "all" : run.convergenceShort,
      met: run.converged === true,
    },
  ];
}

/** Flat figures for baseline comparison. */
export function manyDocumentsMetrics(run: LoadRunResult): Record<string, number> {
  const key = run.loadClient === "raw" ? "many-docs" : `many-docs-${run.loadClient}`;
  return {
    [`${key}/opsPerSec`]: run.opsPerSec,
    [`${key}/ackP50Ms`]: run.ack.p50,
    [`${key}/ackP99Ms`]: run.ack.p99,
    [`${key}/broadcastP99Ms`]: run.broadcastSame.p99,
    [`${key}/crossBroadcastP99Ms`]: run.broadcastCross.p99,
  };
}
