import { ChildHandle } from "../child-handle.js";
import { initialText, wallClock } from "../drivers/edit-generator.js";
import type { StormResult } from "../drivers/storm-driver-main.js";
import { formatTable, num } from "../report/table.js";
import { check, type TargetCheck } from "../report/target-check.js";
import { ServerFleet } from "../server-fleet.js";

/** Options of the reconnect-storm scenario (workload 4). */
export interface ReconnectStormOptions {
  /** Clients. @default 1000 */
  readonly clients: number;
  /** Milliseconds between the old process's exit and the new one's start. @default 0 */
  readonly downMs: number;
  /** Give up waiting for clients after this many seconds. @default 60 */
  readonly timeoutSeconds: number;
}

/** Result of workload 4. */
export interface ReconnectStormResult {
  readonly clients: number;
  readonly resynced: number;
  readonly neverDropped: number;
  readonly missing: number;
  /** From the restart request to the last client back live, seconds. */
  readonly allResyncedSeconds: number;
  /** From the new instance listening to the last client back, seconds. */
  readonly afterListenSeconds: number;
  /** Median client: restart request to back live, seconds. */
  readonly medianResyncSeconds: number;
  /** How long the restart itself took (close, exit, new process listening), seconds. */
  readonly restartSeconds: number;
  /** How long the old instance's graceful close took, seconds, and its steps (ms). */
  readonly closeSeconds: number;
  readonly closeSteps: Record<string, number>;
  /** Where the graceful close hung, if it did not finish within 30 s (the process was then killed). */
  readonly closeHungIn: string | undefined;
  /** Connections the new instance accepted per second, from the second it listened. */
  readonly perSecond: number[];
  /** The same per 100 ms. */
  readonly perTenth: number[];
  /** Largest second / average second over the span in which clients came back. */
  readonly peakToAverage: number;
  /**
   * The same at a finer grain, for how even the spread is within the seconds: connections in
   * the busiest 100 ms / the mean over the 100-ms slices of the same span. Not a target.
   */
  readonly peakToAverageTenths: number;
  readonly errors: Record<string, number>;
}

/**
 * Workload 4: `clients` OTClients (ReconnectingTransport, default policy: a 1001 means
 * "reconnect at once, with up to 1 s of jitter", and so do the next 8 failed attempts, the 503s
 * of the closing instance and the refused connections while the new one starts; only then the
 * exponential backoff) on one instance whose process is stopped gracefully (1001) and started
 * again on the same port. The document lives in Redis, as it would for any instance that may
 * restart.
 */
export async function runReconnectStorm(options: ReconnectStormOptions, log: (line: string) => void): Promise<ReconnectStormResult> {
  const fleet = await ServerFleet.start({ system: "openot-redis", instances: 1 });
  const driver = await ChildHandle.start("./drivers/storm-driver-main.js", []);
  try {
    await fleet.createDocuments(["storm"], initialText(1000));
    const [url] = fleet.urls;
    const { revision } = await driver.request<{ revision: number }>("connectAll", { url, docId: "storm", count: options.clients });
    log(`  storm: ${options.clients} clients live at revision ${revision}; restarting the instance`);
    await driver.request("arm", { revision });
    const stoppedAt = wallClock();
    const restart = await fleet.restart(0, options.downMs);
    const listeningAt = wallClock();
    const storm = await driver.request<StormResult>("awaitResynced", { timeoutMs: options.timeoutSeconds * 1000 });
    const [stats] = await fleet.windowStats();
    const upgrades = ((stats?.upgrades as number[] | undefined) ?? []).filter((t) => t >= listeningAt);
    const last = upgrades.length === 0 ? listeningAt : Math.max(...upgrades);
    const perSecond = binned(upgrades, listeningAt, last, 1000);
    const perTenth = binned(upgrades, listeningAt, last, 100);
    const average = upgrades.length / perSecond.length;
    const lastBack = storm.resyncTimes[storm.resyncTimes.length - 1] ?? Number.NaN;
    const median = storm.resyncTimes[Math.floor(storm.resyncTimes.length / 2)] ?? Number.NaN;
    return {
      clients: options.clients,
      resynced: storm.resynced,
      neverDropped: storm.neverDropped,
      missing: storm.missing,
      allResyncedSeconds: (lastBack - stoppedAt) / 1000,
      afterListenSeconds: (lastBack - listeningAt) / 1000,
      medianResyncSeconds: (median - stoppedAt) / 1000,
      restartSeconds: (listeningAt - stoppedAt) / 1000,
      closeSeconds: restart.closeMs / 1000,
      closeSteps: restart.closeSteps,
      closeHungIn: restart.closeHungIn,
      perSecond,
      perTenth,
      peakToAverage: average === 0 ? Number.NaN : Math.max(...perSecond) / average,
      peakToAverageTenths: upgrades.length === 0 ? Number.NaN : Math.max(...perTenth) / (upgrades.length / perTenth.length),
      errors: storm.errors,
    };
  } finally {
    await driver.stop();
    await fleet.stop();
  }
}

/** How many of `times` fall in each `width`-ms slice from `from` to `last` (both included). */
function binned(times: readonly number[], from: number, last: number, width: number): number[] {
  const bins = Array.from({ length: Math.floor((last - from) / width) + 1 }, () => 0);
  for (const t of times) {
    const bin = Math.floor((t - from) / width);
    bins[bin] = (bins[bin] ?? 0) + 1;
  }
  return bins;
}

/** The table and per-second histogram of workload 4. */
export function formatReconnectStorm(result: ReconnectStormResult): string {
  const peak = Math.max(1, ...result.perSecond);
  const bars = result.perSecond.map(
    (n, i) => `  +${String(i).padStart(2)} s  ${String(n).padStart(5)}  ${"#".repeat(Math.round((50 * n) / peak))}`,
  );
  const errors = Object.entries(result.errors);
  return [
    `Workload 4, reconnect storm: ${result.clients} clients, instance stopped (1001) and started on the same port`,
    formatTable(
      ["resynced", "restart s", "all back s", "after listen s", "median s", "peak/avg"],
      [
        [
          `${result.resynced}/${result.clients}`,
          num(result.restartSeconds, 2),
          num(result.allResyncedSeconds, 2),
          num(result.afterListenSeconds, 2),
          num(result.medianResyncSeconds, 2),
          num(result.peakToAverage, 2),
        ],
      ],
    ),
    "connections accepted per second after the new instance listened:",
    ...bars,
    `per 100 ms: ${result.perTenth.join(" ")}; busiest / mean ${num(result.peakToAverageTenths, 2)} (how even the spread is within the seconds)`,
    `graceful close of the old instance: ${num(result.closeSeconds, 2)} s` +
      (result.closeHungIn !== undefined
        ? ` -- DID NOT FINISH, hung in "${result.closeHungIn}"; the process was killed`
        : ` (${Object.entries(result.closeSteps)
            .map(([k, v]) => `${k} ${num(v / 1000, 2)} s`)
            .join(", ")})`),
    ...(errors.length === 0 ? [] : [`client errors: ${errors.map(([k, v]) => `${k} x${v}`).join(", ")}`]),
  ].join("\n");
}

/** The issue's targets for workload 4. */
export function reconnectStormTargets(result: ReconnectStormResult): TargetCheck[] {
  const allBack: TargetCheck =
    result.resynced === result.clients
      ? check(
          `storm: all ${result.clients} resynced, seconds from the stop`,
          "≤ 5 s",
          result.allResyncedSeconds,
          (v) => `${v.toFixed(2)} s`,
          (v) => v <= 5,
        )
      : {
          name: `storm: all ${result.clients} resynced, seconds from the stop`,
          target: "≤ 5 s",
          measured: `only ${result.resynced} back within ${result.clients === 0 ? 0 : "the timeout"}`,
          met: false,
        };
  return [
    allBack,
    check(
      "storm: busiest second / average second",
      "≤ 3x",
      result.peakToAverage,
      (v) => `${v.toFixed(2)}x`,
      (v) => v <= 3,
    ),
  ];
}

/** Flat figures for baseline comparison. */
export function reconnectStormMetrics(result: ReconnectStormResult): Record<string, number> {
  return {
    "storm/allResyncedSeconds": result.allResyncedSeconds,
    "storm/medianResyncSeconds": result.medianResyncSeconds,
    "storm/peakToAverage": result.peakToAverage,
  };
}
