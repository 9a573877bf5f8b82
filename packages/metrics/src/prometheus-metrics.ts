import type { IncomingMessage, ServerResponse } from "node:http";
import { checkNumberOption } from "@open-ot/core";
import type { ServerMetrics } from "@open-ot/server";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { AckClock } from "./ack-clock.js";

/** Options of {@link createPrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** The registry the metrics are registered in. @default a new Registry of its own */
  readonly registry?: Registry;
  /** Prefix of every metric name. @default "openot_" */
  readonly prefix?: string;
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag) in the registry. @default false */
  readonly defaultMetrics?: boolean;
  /** Path the {@link PrometheusMetrics.handler} serves. @default "/metrics" */
  readonly path?: string;
  /** Upper bounds of the ack latency histogram, in seconds. @default [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] */
  readonly latencyBuckets?: readonly number[];
  /**
   * Commits remembered until their ack is delivered, for the ack latency (the oldest is
   * forgotten past it: commits whose submitter is connected to another instance get no ack here).
   * @default 10000
   */
  readonly maxTrackedCommits?: number;
}

/**
 * A {@link ServerMetrics} sink that keeps Prometheus metrics, plus what serves them. Pass it
 * as `metrics` to `Server`; mount {@link handler} on the HTTP server (or read {@link registry}).
 */
export interface PrometheusMetrics extends ServerMetrics {
  /** The registry holding the metrics. */
  readonly registry: Registry;
  /**
   * A node:http request handler (usable as Connect middleware): answers `GET <path>` with the
   * metrics in the Prometheus text format and returns true; for other paths calls `next()`
   * when given one and returns false.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => boolean;
  /** The metrics in the Prometheus text format (what the handler answers). */
  text(): Promise<string>;
}

const DEFAULT_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BACKEND_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const GROUP_BUCKETS = [1, 2, 4, 8, 16, 32, 64];

/**
 * Prometheus metrics of an OpenOT server process, on prom-client:
 *
 * - `openot_connections{transport}` (gauge) and `openot_connections_opened_total{transport}`
 * - `openot_joins_total`, `openot_ops_committed_total`, `openot_ops_delivered_total{kind}`
 * - `openot_refusals_total{code,where}` (`where`: `message` for an `error` sent on a
 *   connection, `request` for an HTTP or upgrade request refused by a binding)
 * - `openot_ack_latency_seconds` (histogram): from sending a commit to the store to delivering
 *   its `ack`, for ops committed by this process whose submitter is connected to it
 * - `openot_commit_retries_total`, `openot_group_commit_size` (histogram of ops per commit call)
 * - `openot_gap_repairs_total` and `openot_gap_repaired_ops_total`
 * - `openot_backend_call_duration_seconds{method}` (histogram) and `openot_backend_errors_total{method}`
 * - `openot_queued_bytes{transport}` and `openot_presence_entries` (gauges, read when scraped)
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? "openot_";
  const path = options.path ?? "/metrics";
  const maxTracked = checkNumberOption("createPrometheusMetrics", "maxTrackedCommits", options.maxTrackedCommits ?? 10_000, {
    min: 0,
    integer: true,
  });
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];

  const connections = new Gauge({
    name: `${prefix}connections`,
    help: "Open connections, by transport.",
    labelNames: ["transport"],
    registers,
  });
  const opened = new Counter({
    name: `${prefix}connections_opened_total`,
    help: "Connections opened, by transport.",
    labelNames: ["transport"],
    registers,
  });
  const joins = new Counter({ name: `${prefix}joins_total`, help: "Joins accepted (snapshot or joined sent).", registers });
  const committed = new Counter({ name: `${prefix}ops_committed_total`, help: "Ops committed by this process.", registers });
  const delivered = new Counter({
    name: `${prefix}ops_delivered_total`,
    help: "Commits delivered to connections: kind ack (to the submitter) or op (to the others).",
    labelNames: ["kind"],
    registers,
  });
  const refusals = new Counter({
    name: `${prefix}refusals_total`,
    help: "Refusals, by protocol error code; where: message (an error sent) or request (an HTTP or upgrade request refused).",
    labelNames: ["code", "where"],
    registers,
  });
  const ackLatency = new Histogram({
    name: `${prefix}ack_latency_seconds`,
    help: "Time from sending an op's commit to the store to delivering its ack, for ops committed by this process whose submitter is connected to it.",
    buckets: [...(options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS)],
    registers,
  });
  const retries = new Counter({
    name: `${prefix}commit_retries_total`,
    help: "Commits that lost the race to another writer and were tried again.",
    registers,
  });
  const groupSize = new Histogram({
    name: `${prefix}group_commit_size`,
    help: "Ops per commit call to the store.",
    buckets: GROUP_BUCKETS,
    registers,
  });
  const gapRepairs = new Counter({
    name: `${prefix}gap_repairs_total`,
    help: "History reads by sequencers that filled a gap in the published commits.",
    registers,
  });
  const gapOps = new Counter({ name: `${prefix}gap_repaired_ops_total`, help: "Ops read from history to fill gaps.", registers });
  const backendDuration = new Histogram({
    name: `${prefix}backend_call_duration_seconds`,
    help: "Duration of store calls, by method.",
    labelNames: ["method"],
    buckets: BACKEND_BUCKETS,
    registers,
  });
  const backendErrors = new Counter({
    name: `${prefix}backend_errors_total`,
    help: "Store calls that failed, by method.",
    labelNames: ["method"],
    registers,
  });

  const queuedReaders = new Set<{ transport: string; read: () => number }>();
  new Gauge({
    name: `${prefix}queued_bytes`,
    help: "Bytes written to connections and not yet sent, by transport.",
    labelNames: ["transport"],
    registers,
    collect() {
      this.reset();
      const totals = new Map<string, number>();
      for (const reader of queuedReaders) totals.set(reader.transport, (totals.get(reader.transport) ?? 0) + readSafely(reader.read));
      for (const [transport, bytes] of totals) this.set({ transport }, bytes);
    },
  });
  const presenceReaders = new Set<() => number>();
  new Gauge({
    name: `${prefix}presence_entries`,
    help: "Presence entries held by this process.",
    registers,
    collect() {
      let total = 0;
      for (const read of presenceReaders) total += readSafely(read);
      this.set(total);
    },
  });

  const clock = new AckClock(maxTracked, (_docId, _revision, startedAt, deliveredAt) =>
    ackLatency.observe((deliveredAt - startedAt) / 1000),
  );

  const text = (): Promise<string> => registry.metrics();
  const handler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): boolean => {
    if (pathOf(req.url) !== path) {
      next?.();
      return false;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("Use GET.\n");
      return true;
    }
    text().then(
      (body) => {
        res.writeHead(200, {
          "Content-Type": registry.contentType,
          "Cache-Control": "no-store",
          "Content-Length": Buffer.byteLength(body),
        });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
        res.end(`Collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
    return true;
  };

  return {
    registry,
    handler,
    text,
    connectionOpened(transport) {
      connections.inc({ transport });
      opened.inc({ transport });
    },
    connectionClosed(transport) {
      connections.dec({ transport });
    },
    joined() {
      joins.inc();
    },
    refused(code, where) {
      refusals.inc({ code, where });
    },
    committed(docId, revision, startedAt) {
      committed.inc();
      clock.committed(docId, revision, startedAt);
    },
    delivered(docId, revision, kind) {
      delivered.inc({ kind });
      if (kind === "ack") clock.acked(docId, revision, performance.now());
    },
    commitRetried() {
      retries.inc();
    },
    groupCommitted(size) {
      groupSize.observe(size);
    },
    gapRepaired(_docId, ops) {
      gapRepairs.inc();
      gapOps.inc(ops);
    },
    backendCall(method, durationMs, failed) {
      backendDuration.observe({ method }, durationMs / 1000);
      if (failed) backendErrors.inc({ method });
    },
    watchQueuedBytes(transport, read) {
      const reader = { transport, read };
      queuedReaders.add(reader);
      return () => queuedReaders.delete(reader);
    },
    watchPresenceEntries(read) {
      presenceReaders.add(read);
      return () => presenceReaders.delete(read);
    },
  };
}

/** A reader's value, or 0 when it throws or answers something that is not a finite number. */
function readSafely(read: () => number): number {
  try {
    const value = read();
    return Number.isFinite(value) ? value : 0;
  } catch {
    return 0;
  }
}

/** The path of a request target, without its query; undefined when it is not a path. */
function pathOf(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith("/")) return undefined;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
