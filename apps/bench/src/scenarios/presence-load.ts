import type { LoadClientKind } from "../drivers/load-client.js";
import { formatTable, num, ratio } from "../report/table.js";
import { runLoad, troubleNote, type LoadRunResult } from "./load-run.js";

/** Options of the presence scenario (issue 19: 50 people moving their caret at 30 Hz while 10 type). */
export interface PresenceLoadOptions {
  readonly typists: number;
  readonly people: number;
  readonly hz: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly docSize: number;
  readonly batch: boolean;
  readonly loadClients: readonly LoadClientKind[];
}

/** The runs of one load client: typists alone, with people idle, with people moving. */
export interface PresenceLoadRow {
  readonly loadClient: LoadClientKind;
  readonly alone: LoadRunResult;
  readonly idle: LoadRunResult;
  readonly moving: LoadRunResult;
  /** Server CPU per presence update sent, µs: the moving run's CPU less what its ops cost at the idle run's CPU per op. */
  readonly serverUsPerUpdate: number;
}

/** Result of the presence scenario. */
export interface PresenceLoadResult {
  readonly typists: number;
  readonly people: number;
  readonly hz: number;
  readonly rows: readonly PresenceLoadRow[];
}

/** 10 typists on one document (one OpenOT instance in memory), three runs per load client. */
export async function runPresenceLoad(options: PresenceLoadOptions, log: (line: string) => void): Promise<PresenceLoadResult> {
  const rows: PresenceLoadRow[] = [];
  for (const loadClient of options.loadClients) {
    const common = {
      system: "openot" as const,
      clients: options.typists,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      docSize: options.docSize,
      batch: options.batch,
      loadClient,
    };
    const alone = await runLoad(common);
    const idle = await runLoad({ ...common, presencePeople: { count: options.people, hz: 0 } });
    const moving = await runLoad({ ...common, presencePeople: { count: options.people, hz: options.hz } });
    const cpu = (run: LoadRunResult): number => run.serverCpu.reduce((a, b) => a + b, 0);
    const opCpu = (idle.serverCpuUsPerOp * moving.opsPerSec) / 1e6;
    const sent = moving.presence?.sentPerSec ?? 0;
    const row = { loadClient, alone, idle, moving, serverUsPerUpdate: sent > 0 ? ((cpu(moving) - opCpu) * 1e6) / sent : Number.NaN };
    rows.push(row);
    for (const [name, run] of [
      ["alone", alone],
      ["people idle", idle],
      ["people moving", moving],
    ] as const) {
      log(
        `  presence (${loadClient}), ${name}: ${num(run.opsPerSec, 0)} ops/s, ack p99 ${num(run.ack.p99, 2)} ms, ` +
          `${num(run.presence?.deliveredPerSec ?? 0, 0)} presence messages delivered/s, converged: ${String(run.converged)}${troubleNote(run)}`,
      );
    }
  }
  return { typists: options.typists, people: options.people, hz: options.hz, rows };
}

/** The scenario's table. */
export function formatPresenceLoad(result: PresenceLoadResult): string {
  const lines = result.rows.flatMap((r) =>
    (
      [
        ["alone", r.alone],
        ["people idle", r.idle],
        ["people moving", r.moving],
      ] as const
    ).map(([name, run]) => [
      r.loadClient,
      name,
      num(run.opsPerSec, 0),
      num(run.ack.p50, 2),
      num(run.ack.p99, 2),
      num(run.presence?.sentPerSec ?? 0, 0),
      num(run.presence?.deliveredPerSec ?? 0, 0),
      num(run.presence?.entriesPerSec ?? 0, 0),
      run.serverCpu.map((c) => num(c, 2)).join("+"),
      name === "people moving" ? num(r.serverUsPerUpdate, 1) : "",
      name === "people moving" ? ratio(run.ack.p99, r.idle.ack.p99) : "",
      run.convergenceShort,
    ]),
  );
  return [
    `Presence: ${result.typists} typists on one document, ${result.people} people joined with presence, idle or moving their caret at ${result.hz} Hz (ms; per second)`,
    formatTable(
      ["client", "run", "ops/s", "ack p50", "p99", "sent", "delivered", "entries", "srv cpu", "srv µs/update", "p99 vs idle", "conv"],
      lines,
    ),
  ].join("\n");
}

/** Flat figures for baseline comparison. */
export function presenceLoadMetrics(result: PresenceLoadResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of result.rows) {
    const key = `presence-${r.loadClient}`;
    out[`${key}/ackP99IdleMs`] = r.idle.ack.p99;
    out[`${key}/ackP99MovingMs`] = r.moving.ack.p99;
    out[`${key}/deliveredPerSec`] = r.moving.presence?.deliveredPerSec ?? Number.NaN;
    out[`${key}/serverUsPerUpdate`] = r.serverUsPerUpdate;
  }
  return out;
}
