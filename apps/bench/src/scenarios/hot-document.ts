import { formatTable, num, ratio } from "../report/table.js";
import { check, type TargetCheck } from "../report/target-check.js";
import type { LoadClientKind } from "../drivers/load-client.js";
import type { SystemName } from "../server-fleet.js";
import { runLoad, troubleNote, type LoadRunResult } from "./load-run.js";

/** Options of the hot-document scenario (workload 1). */
export interface HotDocumentOptions {
  /** Client counts. @default [1, 10, 50, 200] */
  readonly clients: readonly number[];
  /** Systems, run back to back for each client count. @default all four */
  readonly systems: readonly SystemName[];
  /** Measured seconds per run. */
  readonly seconds: number;
  /** Warm-up seconds per run. */
  readonly warmupSeconds: number;
  /** Document size in characters. */
  readonly docSize: number;
  /** Load-driver processes. */
  readonly drivers: number;
  /** OpenOT clients opt in to batching. */
  readonly batch: boolean;
  /** The clients OpenOT's load is made with, each a run of its own. @default ["raw"] */
  readonly loadClients?: readonly LoadClientKind[];
  /** Server CPU profiles go here. @default undefined */
  readonly profileDir?: string;
}

/** The runs of the scenario. */
export interface HotDocumentResult {
  readonly runs: LoadRunResult[];
}

/**
 * Workload 1: N clients on one document, each with one op in flight, for every system. The
 * systems of one N run back to back, so that their ratios are taken under the same machine load.
 */
export async function runHotDocument(options: HotDocumentOptions, log: (line: string) => void): Promise<HotDocumentResult> {
  const runs: LoadRunResult[] = [];
  for (const clients of options.clients) {
    const jobs = options.systems.flatMap((system): { system: SystemName; loadClient: LoadClientKind }[] =>
      system === "openot" || system === "openot-redis"
        ? (options.loadClients ?? ["raw"]).map((loadClient) => ({ system, loadClient }))
        : [{ system, loadClient: "raw" as const }],
    );
    for (const { system, loadClient } of jobs) {
      const run = await runLoad({
        system,
        loadClient,
        clients,
        seconds: options.seconds,
        warmupSeconds: options.warmupSeconds,
        docSize: options.docSize,
        drivers: options.drivers,
        batch: options.batch,
        ...(options.profileDir === undefined
          ? {}
          : { profileDir: options.profileDir, profileName: `hot-${system}${loadClient === "raw" ? "" : `-${loadClient}`}-n${clients}` }),
      });
      runs.push(run);
      log(`  hot N=${clients} ${label(run)}: ${num(run.opsPerSec, 0)} ops/s, ack p99 ${num(run.ack.p99, 2)} ms${convergedNote(run)}`);
    }
  }
  return { runs };
}

function convergedNote(run: LoadRunResult): string {
  const trouble = troubleNote(run);
  if (run.converged === null) return trouble;
  return (run.converged ? ", converged" : `, NOT converged (${run.convergenceNote})`) + trouble;
}

/** The raw client's run of `system` at `clients` (ratios compare servers, so they use the raw client). */
function find(result: HotDocumentResult, system: SystemName, clients: number): LoadRunResult | undefined {
  return result.runs.find((r) => r.system === system && r.clients === clients && r.loadClient === "raw");
}

/** `openot`, or `openot (otclient)` for a run made with the product's client. */
function label(run: Pick<LoadRunResult, "system" | "loadClient">): string {
  return run.loadClient === "raw" ? run.system : `${run.system} (${run.loadClient})`;
}

/** The table of workload 1: one row per run, ratios of OpenOT to ShareDB and to the relay. */
export function formatHotDocument(result: HotDocumentResult): string {
  const headers = [
    "N / system",
    "ops/s",
    "ack p50",
    "p95",
    "p99",
    "bcast p50",
    "p99",
    "x-inst p50",
    "p99",
    "conv",
    "msg/frame",
    "srv cpu",
    "srv µs/op",
    "drv cpu",
    "drv µs/msg",
    "vs raw client",
    "vs ShareDB",
    "vs relay",
    "vs relay-redis",
  ];
  const rows = result.runs.map((r) => {
    const sharedb = find(result, "sharedb", r.clients);
    const relay = find(result, "relay", r.clients);
    const relayRedis = find(result, "relay-redis", r.clients);
    const ours = r.system === "openot" || r.system === "openot-redis" || r.system === "openot-cluster";
    return [
      `N=${r.clients} ${label(r)}`,
      num(r.opsPerSec, 0),
      num(r.ack.p50, 2),
      num(r.ack.p95, 2),
      num(r.ack.p99, 2),
      num(r.broadcastSame.p50, 2),
      num(r.broadcastSame.p99, 2),
      num(r.broadcastCross.p50, 2),
      num(r.broadcastCross.p99, 2),
      r.converged === false ? "NO" : r.convergenceShort,
      num(r.messagesPerFrame, 2),
      r.serverCpu.map((c) => num(c, 2)).join("+"),
      num(r.serverCpuUsPerOp, 0),
      r.driverCpu.map((c) => num(c, 2)).join("+"),
      num(r.driverUsPerMessage, 1),
      r.loadClient === "raw" ? "" : ratio(r.opsPerSec, find(result, r.system, r.clients)?.opsPerSec),
      ours ? ratio(r.opsPerSec, sharedb?.opsPerSec) : "",
      ours ? ratio(r.opsPerSec, relay?.opsPerSec) : "",
      r.system === "openot-redis" ? ratio(r.opsPerSec, relayRedis?.opsPerSec) : "",
    ];
  });
  const notes = result.runs.flatMap((r) => {
    const trouble = troubleNote(r).replace(/^; /, "");
    const lines = r.converged === false ? [`N=${r.clients} ${label(r)} not converged: ${r.convergenceNote}`] : [];
    return trouble === "" ? lines : [...lines, `N=${r.clients} ${label(r)}: ${trouble}`];
  });
  const floor = redisFloorRows(result);
  const cluster = clusterRows(result.runs);
  return [
    "Workload 1, hot document (latencies in ms; cpu as share of one core; ratios are ops/s)",
    formatTable(headers, rows),
    ...notes,
    ...(floor.length === 0
      ? []
      : [
          "",
          "What sharing Redis costs the floor (relay-redis / relay) and us (openot-redis / openot); the best floor over Redis",
          "(relay-redis, or relay-redis-batch when run) as a share of one OpenOT instance; at N=1 (one op in flight, so per-op",
          "times add) the most two instances + Redis can make of one instance, given the relay's cost of one Redis round trip",
          formatTable(
            [
              "N",
              "relay-redis / relay",
              "openot-redis / openot",
              "best floor over Redis / openot",
              "Redis ms per op (relay)",
              "N=1 bound on openot-redis / openot",
            ],
            floor,
          ),
        ]),
    ...(cluster.length === 0
      ? []
      : [
          "",
          "Two instances on a Redis Cluster (3 masters, 1 replica each, commits wait for one replica) against two on one Redis",
          formatTable(CLUSTER_HEADERS, cluster),
        ]),
  ].join("\n");
}

/** Headers of {@link clusterRows}. */
export const CLUSTER_HEADERS = [
  "N",
  "openot-cluster ops/s",
  "openot-redis ops/s",
  "cluster / one Redis",
  "ack p50 cluster",
  "ack p50 one Redis",
];

/** For each client count run on both: openot-cluster against openot-redis. */
export function clusterRows(runs: readonly LoadRunResult[]): string[][] {
  return runs
    .filter((r) => r.system === "openot-cluster")
    .flatMap((c) => {
      const one = runs.find((r) => r.system === "openot-redis" && r.clients === c.clients && r.docs === c.docs);
      return one === undefined
        ? []
        : [
            [
              String(c.clients),
              num(c.opsPerSec, 0),
              num(one.opsPerSec, 0),
              ratio(c.opsPerSec, one.opsPerSec),
              num(c.ack.p50, 2),
              num(one.ack.p50, 2),
            ],
          ];
    });
}

/**
 * The Redis floor rows: for each N with the relay and relay-redis. The best floor over Redis
 * (relay-redis, or the batching relay-redis-batch when it made more) against one OpenOT instance
 * is what a server that does no work at all but acks after a Redis commit made of our
 * one-instance rate: two instances of ours cannot expect a higher share. At N=1 there is one op in flight in the whole run, so a run's time per op is the sum of its
 * steps: the relay's extra time per op over Redis (`1/relayRedis - 1/relay`, one script round
 * trip and its client-library work) is time that any server acking after a Redis commit adds to
 * its one-instance time per op, which bounds openot-redis / openot from above.
 */
export function redisFloorRows(result: HotDocumentResult): string[][] {
  const rows: string[][] = [];
  const ns = [...new Set(result.runs.map((r) => r.clients))];
  for (const n of ns) {
    const [ours, oursRedis, relay, relayRedis, relayRedisBatch] = (
      ["openot", "openot-redis", "relay", "relay-redis", "relay-redis-batch"] as const
    ).map((s) => find(result, s, n)?.opsPerSec);
    if (relay === undefined || relayRedis === undefined) continue;
    const bestFloor = Math.max(relayRedis, relayRedisBatch ?? 0);
    const redisMs = 1000 / relayRedis - 1000 / relay;
    const bound = n === 1 && ours !== undefined && ours > 0 ? 1000 / ours / (1000 / ours + Math.max(0, redisMs)) : undefined;
    rows.push([
      `N=${n}`,
      ratio(relayRedis, relay),
      ratio(oursRedis, ours),
      ratio(bestFloor, ours),
      n === 1 ? num(redisMs, 3) : "-",
      bound === undefined ? "-" : `${bound.toFixed(2)}x`,
    ]);
  }
  return rows;
}

/** The issue's targets for workload 1. */
export function hotDocumentTargets(result: HotDocumentResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const x = (v: number): string => `${v.toFixed(2)}x`;
  const at = (system: SystemName, n: number): LoadRunResult | undefined => find(result, system, n);
  const n10 = { ours: at("openot", 10), sharedb: at("sharedb", 10) };
  if (n10.ours !== undefined || n10.sharedb !== undefined) {
    checks.push(
      check("N=10 ops/s, OpenOT / ShareDB", "≥ 2x", div(n10.ours?.opsPerSec, n10.sharedb?.opsPerSec), x, (v) => v >= 2),
      check("N=10 ack p99, OpenOT / ShareDB", "≤ 0.5x", div(n10.ours?.ack.p99, n10.sharedb?.ack.p99), x, (v) => v <= 0.5),
    );
  }
  for (const n of [50, 200]) {
    const ours = at("openot", n);
    if (ours === undefined) continue;
    checks.push(
      check(`N=${n} ops/s, OpenOT / ShareDB`, "≥ 3x", div(ours.opsPerSec, at("sharedb", n)?.opsPerSec), x, (v) => v >= 3),
      check(`N=${n} ops/s, OpenOT / raw relay`, "≥ 1x", div(ours.opsPerSec, at("relay", n)?.opsPerSec), x, (v) => v >= 1),
    );
  }
  for (const run of result.runs.filter((r) => r.system === "openot-redis" && r.loadClient === "raw")) {
    checks.push(
      check(
        `N=${run.clients} ops/s, two instances + Redis / one instance`,
        "≥ 0.70x",
        div(run.opsPerSec, at("openot", run.clients)?.opsPerSec),
        x,
        (v) => v >= 0.7,
      ),
    );
  }
  const redis10 = at("openot-redis", 10);
  if (redis10 !== undefined) {
    checks.push(
      check(
        "N=10 broadcast p99, cross-instance minus same-instance",
        "≤ 2 ms",
        redis10.broadcastCross.p99 - redis10.broadcastSame.p99,
        (v) => `${v.toFixed(2)} ms`,
        (v) => v <= 2,
      ),
    );
  }
  // Issue 19: the product's client may cost at most 1.5x the raw client per received message.
  // One run with the server on the same cores scatters; client-cost gives the steady figure.
  for (const run of result.runs.filter((r) => r.loadClient !== "raw" && r.clients > 1)) {
    checks.push(
      check(
        `N=${run.clients} ${label(run)} driver µs per received message / raw client's (one run; steady: client-cost)`,
        "≤ 1.5x",
        div(run.driverUsPerMessage, find(result, run.system, run.clients)?.driverUsPerMessage),
        x,
        (v) => v <= 1.5,
      ),
    );
  }
  const diverged = result.runs.filter((r) => r.converged === false);
  const judged = result.runs.filter((r) => r.converged !== null);
  if (judged.length > 0) {
    checks.push({
      name: "hot document: every client converged",
      target: "all runs",
      measured: diverged.length === 0 ? `${judged.length}/${judged.length}` : diverged.map((r) => `N=${r.clients} ${label(r)}`).join(", "),
      met: diverged.length === 0,
    });
  }
  return checks;
}

function div(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** Flat figures for baseline comparison: `hot/<system>/n<N>/<figure>`. */
export function hotDocumentMetrics(result: HotDocumentResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of result.runs) {
    const key = `hot/${r.loadClient === "raw" ? r.system : `${r.system}-${r.loadClient}`}/n${r.clients}`;
    out[`${key}/opsPerSec`] = r.opsPerSec;
    out[`${key}/ackP50Ms`] = r.ack.p50;
    out[`${key}/ackP99Ms`] = r.ack.p99;
    out[`${key}/broadcastP99Ms`] = r.broadcastSame.p99;
    out[`${key}/serverCpuUsPerOp`] = r.serverCpuUsPerOp;
    if (Number.isFinite(r.driverUsPerMessage)) out[`${key}/driverUsPerMessage`] = r.driverUsPerMessage;
    if (r.broadcastCross.count > 0) out[`${key}/crossBroadcastP99Ms`] = r.broadcastCross.p99;
  }
  return out;
}
