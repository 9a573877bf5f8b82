import { ChildHandle } from "../child-handle.js";
import { initialText } from "../drivers/edit-generator.js";
import type { HoldResult } from "../drivers/connection-holder-main.js";
import { formatTable, kb, num } from "../report/table.js";
import { check, type TargetCheck } from "../report/target-check.js";
import { ServerFleet } from "../server-fleet.js";
import type { MemoryAfterGc } from "../servers/process-stats.js";

/** Options of the idle-connections scenario (workload 3). */
export interface IdleConnectionsOptions {
  /** WebSocket connections. @default 10000 */
  readonly ws: number;
  /** SSE streams. @default 2000 */
  readonly sse: number;
  /** Documents the connections join, round-robin. @default 100 */
  readonly docs: number;
  /** Seconds the event-loop delay is watched with everything open. @default 5 */
  readonly idleSeconds: number;
}

/** What one kind of connection costs the server. */
export interface ConnectionCost {
  readonly kind: "ws" | "sse";
  readonly requested: number;
  readonly opened: number;
  readonly failures: Record<string, number>;
  /** Seconds to open them all (from one driver process). */
  readonly openSeconds: number;
  /** Server RSS growth per connection, after GC, bytes. */
  readonly rssPerConnection: number;
  /** Server JS heap growth per connection, after GC, bytes. */
  readonly heapPerConnection: number;
  /** Server heap + external (Buffers) growth per connection, after GC, bytes. */
  readonly heapAndExternalPerConnection: number;
}

/** Result of workload 3. */
export interface IdleConnectionsResult {
  readonly costs: ConnectionCost[];
  /** The server's memory before, after the WebSockets, after the SSE streams. */
  readonly memory: MemoryAfterGc[];
  /** Open connections the server counted with everything open. */
  readonly serverConnections: number;
  /** Event-loop delay and CPU of the server with everything open and idle. */
  readonly idle: {
    readonly seconds: number;
    readonly cpu: number;
    readonly loopDelayP50: number;
    readonly loopDelayP99: number;
    readonly loopDelayMax: number;
  };
  /** Whether GC was run before each memory reading (`--expose-gc`). */
  readonly gc: boolean;
}

function perConnection(before: MemoryAfterGc, after: MemoryAfterGc, count: number, pick: (m: MemoryAfterGc) => number): number {
  return count === 0 ? Number.NaN : (pick(after) - pick(before)) / count;
}

async function waitForConnections(fleet: ServerFleet, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // The server closes its side of dropped connections asynchronously: poll its count.
  while ((await fleet.connectionCounts())[0] !== count) {
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Workload 3: open `ws` WebSocket connections and `sse` SSE streams (each joined to a document)
 * against one OpenOT instance, and read the server's memory growth per connection after GC and
 * its event-loop delay while they sit idle. The connections are held by a driver process; the
 * fd limit of each process must exceed the count (see the README).
 */
export async function runIdleConnections(options: IdleConnectionsOptions, log: (line: string) => void): Promise<IdleConnectionsResult> {
  const fleet = await ServerFleet.start({ system: "openot" });
  const holder = await ChildHandle.start("./drivers/connection-holder-main.js", []);
  try {
    const docIds = Array.from({ length: options.docs }, (_, i) => `idle-${i}`);
    await fleet.createDocuments(docIds, initialText(200));
    const [wsUrl] = fleet.urls;
    const [httpUrl] = fleet.httpUrls;
    if (wsUrl === undefined || httpUrl === undefined) throw new Error("no server");
    // Warm up: every code path (and lazily created per-document state) runs once before the
    // baseline is read, so the baseline does not hide one-off costs in the first connections.
    await holder.request("openWebSockets", { url: wsUrl, docIds, count: Math.min(200, options.ws) });
    await holder.request("openSseStreams", { url: httpUrl, docIds, count: Math.min(200, options.sse) });
    await holder.request("closeAll");
    await waitForConnections(fleet, 0, 10_000);

    const [m0] = await fleet.memory();
    const ws = await holder.request<HoldResult>("openWebSockets", { url: wsUrl, docIds, count: options.ws });
    log(`  idle: ${ws.opened} WebSockets open in ${ws.seconds.toFixed(1)} s${failureNote(ws)}`);
    const [m1] = await fleet.memory();
    const sse = await holder.request<HoldResult>("openSseStreams", { url: httpUrl, docIds, count: options.sse });
    log(`  idle: ${sse.opened} SSE streams open in ${sse.seconds.toFixed(1)} s${failureNote(sse)}`);
    const [m2] = await fleet.memory();
    if (m0 === undefined || m1 === undefined || m2 === undefined) throw new Error("no memory figures");
    const [serverConnections] = await fleet.connectionCounts();

    await fleet.windowStart();
    await new Promise((resolve) => setTimeout(resolve, options.idleSeconds * 1000));
    const [window] = await fleet.windowStats();
    await holder.request("closeAll");

    const cost = (
      kind: "ws" | "sse",
      requested: number,
      held: HoldResult,
      before: MemoryAfterGc,
      after: MemoryAfterGc,
    ): ConnectionCost => ({
      kind,
      requested,
      opened: held.opened,
      failures: held.failures,
      openSeconds: held.seconds,
      rssPerConnection: perConnection(before, after, held.opened, (m) => m.rss),
      heapPerConnection: perConnection(before, after, held.opened, (m) => m.heapUsed),
      heapAndExternalPerConnection: perConnection(before, after, held.opened, (m) => m.heapUsed + m.external),
    });
    return {
      costs: [cost("ws", options.ws, ws, m0, m1), cost("sse", options.sse, sse, m1, m2)],
      memory: [m0, m1, m2],
      serverConnections: serverConnections ?? 0,
      idle: {
        seconds: options.idleSeconds,
        cpu: window?.cpu ?? Number.NaN,
        loopDelayP50: window?.loopDelay.p50 ?? Number.NaN,
        loopDelayP99: window?.loopDelay.p99 ?? Number.NaN,
        loopDelayMax: window?.loopDelay.max ?? Number.NaN,
      },
      gc: m0.gc,
    };
  } finally {
    await holder.stop();
    await fleet.stop();
  }
}

function failureNote(held: HoldResult): string {
  const failures = Object.entries(held.failures);
  return failures.length === 0 ? "" : ` (failed: ${failures.map(([k, v]) => `${k} x${v}`).join(", ")})`;
}

/** The table of workload 3. */
export function formatIdleConnections(result: IdleConnectionsResult): string {
  const rows = result.costs.map((c) => [
    c.kind === "ws" ? "WebSocket" : "SSE",
    `${c.opened}/${c.requested}`,
    num(c.openSeconds, 1),
    kb(c.rssPerConnection),
    kb(c.heapPerConnection),
    kb(c.heapAndExternalPerConnection),
  ]);
  const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MB`;
  const [m0, , m2] = result.memory;
  return [
    `Workload 3, idle connections (server memory after GC${result.gc ? "" : " -- WITHOUT --expose-gc, figures are rough"})`,
    formatTable(["kind", "open", "open s", "RSS/conn", "heap/conn", "heap+ext/conn"], rows),
    `server: ${result.serverConnections} connections, RSS ${m0 === undefined ? "-" : mb(m0.rss)} -> ${m2 === undefined ? "-" : mb(m2.rss)}; ` +
      `idle ${result.idle.seconds} s: cpu ${num(result.idle.cpu, 3)}, event-loop delay p50 ${num(result.idle.loopDelayP50, 2)} ms, ` +
      `p99 ${num(result.idle.loopDelayP99, 2)} ms, max ${num(result.idle.loopDelayMax, 2)} ms`,
  ].join("\n");
}

/** The issue's target for workload 3: at most 20 KB of server memory per connection (RSS). */
export function idleConnectionsTargets(result: IdleConnectionsResult): TargetCheck[] {
  return result.costs.map((c) =>
    check(
      `idle: server RSS per ${c.kind === "ws" ? "WebSocket" : "SSE"} connection (${c.opened} open)`,
      "≤ 20 KB",
      c.opened === c.requested ? c.rssPerConnection : undefined,
      (v) => kb(v),
      (v) => v <= 20 * 1024,
    ),
  );
}

/** Flat figures for baseline comparison. */
export function idleConnectionsMetrics(result: IdleConnectionsResult): Record<string, number> {
  const out: Record<string, number> = { "idle/loopDelayP99Ms": result.idle.loopDelayP99 };
  for (const c of result.costs) {
    out[`idle/${c.kind}/rssPerConnectionBytes`] = c.rssPerConnection;
    out[`idle/${c.kind}/heapPerConnectionBytes`] = c.heapPerConnection;
  }
  return out;
}
