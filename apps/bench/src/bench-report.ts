import type { PresenceLoadResult } from "./scenarios/presence-load.js";
import type { DocsPerConnectionResult } from "./scenarios/docs-per-connection.js";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import type { TargetCheck } from "./report/target-check.js";
import type { AttackResult } from "./scenarios/attack.js";
import type { ClientCostResult } from "./scenarios/client-cost.js";
import type { HotDocumentResult } from "./scenarios/hot-document.js";
import type { IdleConnectionsResult } from "./scenarios/idle-connections.js";
import type { LargeDocumentResult } from "./scenarios/large-document.js";
import type { LoadRunResult } from "./scenarios/load-run.js";
import type { ReconnectStormResult } from "./scenarios/reconnect-storm.js";

/** The machine a run was made on. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average when the run started and when it ended (other work on the machine skews figures). */
  readonly loadAverageStart: number;
  loadAverageEnd: number;
}

/** A results file (apps/bench/results/*.json). */
export interface BenchReport {
  readonly version: 1;
  readonly startedAt: string;
  /** The command line after `node dist/run.js`. */
  readonly args: readonly string[];
  readonly machine: MachineInfo;
  readonly scenarios: {
    hot?: HotDocumentResult;
    clientCost?: ClientCostResult;
    manyDocs?: LoadRunResult;
    /** many-docs made with the other load clients of `--load-client`. */
    manyDocsOtherClients?: LoadRunResult[];
    /** Workload 2 on a Redis Cluster (when --systems lists openot-cluster). */
    manyDocsCluster?: LoadRunResult;
    docsPerConnection?: DocsPerConnectionResult;
    presence?: PresenceLoadResult;
    idle?: IdleConnectionsResult;
    storm?: ReconnectStormResult;
    largeDoc?: LargeDocumentResult;
    attack?: AttackResult;
  };
  readonly targets: TargetCheck[];
  /** Flat figures for `--baseline` comparisons. */
  readonly metrics: Record<string, number>;
  /** Seconds the whole run took. */
  durationSeconds: number;
}

/** Describe this machine. */
export function machineInfo(): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageStart: loadavg()[0] ?? Number.NaN,
    loadAverageEnd: Number.NaN,
  };
}
