import type { LoadClientKind } from "../drivers/load-client.js";
import { formatTable, num } from "../report/table.js";
import { runLoad, troubleNote, type LoadRunResult } from "./load-run.js";

/** Options of the docs-per-connection scenario (issue 19: one connection with many documents, or a connection each). */
export interface DocsPerConnectionOptions {
  /** Documents, one client each. @default 100 */
  readonly docs: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly docSize: number;
  readonly batch: boolean;
  /** The clients of the "a connection each" runs (the shared run is always `connection`). */
  readonly loadClients: readonly LoadClientKind[];
}

/** One run of the scenario: how the documents were carried, and what it measured. */
export interface DocsPerConnectionRow {
  /** `one connection` or `a connection each`. */
  readonly layout: string;
  readonly run: LoadRunResult;
  /** Server heap growth per document from the joins, bytes (after GC). */
  readonly heapPerDocJoined: number;
  /** Server RSS growth per document from the joins, bytes. */
  readonly rssPerDocJoined: number;
  /** Server heap growth per document after the run (history and caches included), bytes. */
  readonly heapPerDocAfterRun: number;
}

/** Result of the scenario. */
export interface DocsPerConnectionResult {
  readonly docs: number;
  readonly rows: readonly DocsPerConnectionRow[];
}

function row(layout: string, run: LoadRunResult): DocsPerConnectionRow {
  const m = run.memory;
  const per = (bytes: number | undefined): number => (bytes === undefined ? Number.NaN : bytes / run.docs);
  return {
    layout,
    run,
    heapPerDocJoined: per(m === undefined ? undefined : m.afterJoin.heapUsed - m.beforeJoin.heapUsed),
    rssPerDocJoined: per(m === undefined ? undefined : m.afterJoin.rss - m.beforeJoin.rss),
    heapPerDocAfterRun: per(m === undefined ? undefined : m.afterRun.heapUsed - m.beforeJoin.heapUsed),
  };
}

/**
 * N documents with one editing client each, on one OpenOT instance (in memory): all N over one
 * `OTConnection`, then N connections with one document each (for every load client asked for).
 * One driver process, so that the shared connection's documents are in one process.
 */
export async function runDocsPerConnection(
  options: DocsPerConnectionOptions,
  log: (line: string) => void,
): Promise<DocsPerConnectionResult> {
  const common = {
    system: "openot" as const,
    clients: options.docs,
    docs: options.docs,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    docSize: options.docSize,
    drivers: 1,
    batch: options.batch,
    memory: true,
  };
  const rows: DocsPerConnectionRow[] = [];
  const layouts: [string, LoadClientKind, number][] = [
    ["one connection", "connection", options.docs],
    ...options.loadClients.map((kind): [string, LoadClientKind, number] => ["a connection each", kind, 1]),
  ];
  if (!options.loadClients.includes("connection")) layouts.splice(1, 0, ["a connection each", "connection", 1]);
  for (const [layout, loadClient, clientsPerConnection] of layouts) {
    const run = await runLoad({ ...common, loadClient, clientsPerConnection });
    const r = row(layout, run);
    rows.push(r);
    log(
      `  ${options.docs} documents, ${layout} (${loadClient}): ${num(run.opsPerSec, 0)} ops/s, ack p99 ${num(run.ack.p99, 2)} ms, ` +
        `${num(r.heapPerDocJoined / 1000, 1)} KB heap per document joined, converged: ${String(run.converged)}${troubleNote(run)}`,
    );
  }
  return { docs: options.docs, rows };
}

/** The scenario's table. */
export function formatDocsPerConnection(result: DocsPerConnectionResult): string {
  return [
    `Documents per connection: ${result.docs} documents, one client each, one instance in memory (ms; server memory after GC, KB per document)`,
    formatTable(
      [
        "layout",
        "client",
        "ops/s",
        "ack p50",
        "p99",
        "srv cpu",
        "srv µs/op",
        "drv cpu",
        "heap/doc joined",
        "rss/doc joined",
        "heap/doc after",
        "conv",
      ],
      result.rows.map((r) => [
        r.layout,
        r.run.loadClient,
        num(r.run.opsPerSec, 0),
        num(r.run.ack.p50, 2),
        num(r.run.ack.p99, 2),
        r.run.serverCpu.map((c) => num(c, 2)).join("+"),
        num(r.run.serverCpuUsPerOp, 0),
        r.run.driverCpu.map((c) => num(c, 2)).join("+"),
        num(r.heapPerDocJoined / 1000, 1),
        num(r.rssPerDocJoined / 1000, 1),
        num(r.heapPerDocAfterRun / 1000, 1),
        r.run.convergenceShort,
      ]),
    ),
  ].join("\n");
}

/** Flat figures for baseline comparison. */
export function docsPerConnectionMetrics(result: DocsPerConnectionResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of result.rows) {
    const key = `docs-per-connection/${r.layout === "one connection" ? "shared" : "each"}-${r.run.loadClient}`;
    out[`${key}/opsPerSec`] = r.run.opsPerSec;
    out[`${key}/ackP99Ms`] = r.run.ack.p99;
    out[`${key}/heapPerDocJoinedBytes`] = r.heapPerDocJoined;
  }
  return out;
}
