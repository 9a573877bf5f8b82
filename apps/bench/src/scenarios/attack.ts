import WebSocket from "ws";
import { ChildHandle } from "../child-handle.js";
import { rawWebSocket, textFrame, upgradeAnswer, type RawWebSocket } from "../drivers/raw-websocket.js";
import type { LatencySummary } from "../histogram.js";
import { formatTable, num } from "../report/table.js";
import { check, type TargetCheck } from "../report/target-check.js";
import type { WindowStats } from "../servers/process-stats.js";
import type { ServerReady } from "../servers/server-main.js";

/** Options of the attack scenario. */
export interface AttackOptions {
  /** The longest any row may run, in seconds (a row ends sooner once its attack is done). @default 10 */
  readonly seconds: number;
}

/** One attack against a fresh server process. */
export interface AttackRow {
  readonly name: string;
  /** What the attacker does. */
  readonly attack: string;
  readonly seconds: number;
  /** The server process's resident-memory high-water mark over its life (start and attack), bytes. */
  readonly peakRss: number;
  /** Round trips of another client's pings during the attack, ms. */
  readonly ping: LatencySummary;
  /** Pings of that client never answered. */
  readonly pingsLost: number;
  /** The server's own event-loop delay during the attack, ms (what of the ping latency is the server's). */
  readonly serverLoopDelay: { readonly p99: number; readonly max: number };
  /** What the server did about it. */
  readonly outcome: string;
}

/** Result of the attack scenario. */
export interface AttackResult {
  readonly rows: AttackRow[];
}

/** The issue's targets for every row. */
const RSS_TARGET_BYTES = 200 * 1024 * 1024;
const PING_P99_TARGET_MS = 50;
/** The shortest window a row's pings are measured over, ms. */
const MIN_WINDOW_MS = 3_000;
/** The probe's ping interval, ms. */
const PING_INTERVAL_MS = 20;

interface RowContext {
  readonly port: number;
  readonly server: ChildHandle<ServerReady>;
  /** performance.now() after which the row must stop. */
  readonly deadline: number;
}

/**
 * The bounded attack run of issue 16: each row starts a fresh server as a deployment would run
 * it (every limit at its default, documents created on join), lets one attacker do one thing
 * from 127.0.0.1 while another client pings the server every 20 ms over WebSocket, and reports
 * the server's peak RSS and that client's ping latency.
 */
export async function runAttack(options: AttackOptions, log: (line: string) => void): Promise<AttackResult> {
  const rows: AttackRow[] = [];
  const attacks: Array<[string, string, (ctx: RowContext) => Promise<string>]> = [
    ["amplification", "8 clients that never read, 4 frames each of 524,287 batch elements (1 MiB)", amplification],
    ["unserved upgrades", "1,000 upgrades to paths nobody serves (/nope, /ws/, //, /WS, /ws;x)", unservedUpgrades],
    ["1,000 documents", "one connection joins 1,000 new documents at the rate limit", manyDocuments],
    ["non-reader", "a client joined to 4 documents stops reading; 4 writers broadcast 8 KiB ops at the rate limit", nonReader],
    ["connection flood", "2,000 WebSocket connections from one address, held open", connectionFlood],
  ];
  for (const [name, attack, body] of attacks) {
    const row = await runRow(name, attack, body, options.seconds);
    log(`  attack ${name}: peak RSS ${mb(row.peakRss)} MB, ping p99 ${num(row.ping.p99, 2)} ms; ${row.outcome}`);
    rows.push(row);
  }
  return { rows };
}

async function runRow(name: string, attack: string, body: (ctx: RowContext) => Promise<string>, seconds: number): Promise<AttackRow> {
  const server = await ChildHandle.start<ServerReady>("./servers/server-main.js", [JSON.stringify({ kind: "openot-defended" })], {
    execArgv: ["--expose-gc"],
  });
  try {
    const port = server.ready.port;
    // In a process of its own, so that what it measures is the server, not the attacker's process.
    const probe = await ChildHandle.start("./drivers/ping-probe-main.js", [String(port), String(PING_INTERVAL_MS)]);
    try {
      await server.request("windowStart");
      const started = performance.now();
      const outcome = await body({ port, server, deadline: started + seconds * 1000 });
      // A short attack (1,000 upgrades take a fraction of a second) is watched for a while
      // after, so that its ping figures rest on enough samples and show any lingering cost.
      const rest = MIN_WINDOW_MS - (performance.now() - started);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      const pings = await probe.request<{ latency: LatencySummary; lost: number }>("stop");
      const window = await server.request<WindowStats>("windowStats");
      return {
        name,
        attack,
        seconds: (performance.now() - started) / 1000,
        peakRss: await server.request<number>("peakRss"),
        ping: pings.latency,
        pingsLost: pings.lost,
        serverLoopDelay: { p99: window.loopDelay.p99, max: window.loopDelay.max },
        outcome,
      };
    } finally {
      await probe.stop();
    }
  } finally {
    await server.stop();
  }
}

/** Poll `condition` every 100 ms until it holds or `deadline` passes; true if it held. */
async function until(condition: () => boolean | Promise<boolean>, deadline: number): Promise<boolean> {
  for (;;) {
    if (await condition()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function connections(ctx: RowContext): Promise<number> {
  return ctx.server.request<number>("connectionCount");
}

async function amplification(ctx: RowContext): Promise<string> {
  const frame = textFrame(`[${"1,".repeat(524_286)}1]`);
  const sockets: RawWebSocket[] = [];
  try {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 4 && performance.now() < ctx.deadline; i++) {
          const raw = await rawWebSocket(ctx.port, "/ws");
          sockets.push(raw);
          // Never reads: whatever the server answers stays in its buffers or the kernel's.
          raw.socket.pause();
          raw.socket.write(frame);
        }
      }),
    );
    const closed = await until(async () => (await connections(ctx)) === 1, ctx.deadline);
    const open = (await connections(ctx)) - 1;
    return `${sockets.length} frames sent; ${closed ? "every attacking connection closed by the server" : `${open} attacking connections still open`}`;
  } finally {
    for (const raw of sockets) raw.socket.destroy();
  }
}

async function unservedUpgrades(ctx: RowContext): Promise<string> {
  const paths = ["/nope", "/ws/", "//", "/WS", "/ws;x"];
  const statuses = new Map<string, number>();
  let unanswered = 0;
  for (let round = 0; round < 10 && performance.now() < ctx.deadline; round++) {
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => upgradeAnswer(ctx.port, paths[i % paths.length]!).catch(() => ({ status: 0, closed: false }))),
    );
    for (const answer of answers) {
      const key = answer.status === 0 ? "none" : String(answer.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (!answer.closed) unanswered++;
    }
  }
  const sockets = await ctx.server.request<number>("socketCount");
  const answered = [...statuses].map(([status, count]) => `${count} x ${status}`).join(", ");
  return `answered: ${answered}; left open by the server: ${unanswered}; sockets open after: ${sockets} (the probe's)`;
}

async function manyDocuments(ctx: RowContext): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${ctx.port}/ws`);
  ws.on("error", () => undefined);
  const answers = new Map<string, number>();
  ws.on("message", (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { type: string; code?: string };
    const key = message.type === "error" ? `error ${message.code ?? "?"}` : message.type;
    answers.set(key, (answers.get(key) ?? 0) + 1);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  try {
    // 100 joins a second: the default rate limit (100 messages/s), so none is refused for rate.
    let sent = 0;
    while (sent < 1_000 && performance.now() < ctx.deadline) {
      ws.send(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ type: "join", docId: `attack-${sent + i}` }))));
      sent += 100;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const answered = () => [...answers.values()].reduce((a, b) => a + b, 0);
    await until(() => answered() >= sent, ctx.deadline + 5_000);
    const stats = await ctx.server.request<{ documents?: number }>("windowStats");
    const counts = [...answers].map(([kind, count]) => `${count} ${kind}`).join(", ");
    return `${sent} joins: ${counts}; documents the hub holds: ${stats.documents ?? "?"}`;
  } finally {
    ws.terminate();
  }
}

async function nonReader(ctx: RowContext): Promise<string> {
  const docs = ["hot-0", "hot-1", "hot-2", "hot-3"];
  const size = 8 * 1024;
  await ctx.server.request("createDocuments", { ids: docs, text: "x".repeat(size) });
  const victim = await rawWebSocket(ctx.port, "/ws");
  victim.socket.write(textFrame(JSON.stringify(docs.map((docId) => ({ type: "join", docId })))));
  victim.socket.pause();
  const writers = await Promise.all(docs.map((docId, i) => Writer.start(ctx.port, docId, `attack_writer_${i}_0000000`, size)));
  const started = performance.now();
  try {
    // Probe + victim + 4 writers; the victim's close leaves 5.
    const closed = await until(async () => (await connections(ctx)) <= 1 + writers.length, ctx.deadline);
    const after = (performance.now() - started) / 1000;
    const ops = writers.reduce((sum, w) => sum + w.acked, 0);
    return closed
      ? `non-reader closed by the server after ${after.toFixed(1)} s; ${ops} ops committed meanwhile`
      : `non-reader still open after ${after.toFixed(1)} s (${ops} ops)`;
  } finally {
    for (const writer of writers) writer.stop();
    victim.socket.destroy();
  }
}

/** A client that replaces its document's text with `size` new characters 100 times a second, each op after the previous ack. */
class Writer {
  acked = 0;
  #stopped = false;
  /** Takes the next answer that is not another client's op (undefined when the connection ends). */
  #answer: ((message: { type: string; revision?: number } | undefined) => void) | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly docId: string,
    private readonly clientId: string,
    private readonly size: number,
  ) {
    ws.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; revision?: number };
      if (message.type !== "op") this.#answer?.(message);
    });
    ws.on("close", () => this.#answer?.(undefined));
  }

  static async start(port: number, docId: string, clientId: string, size: number): Promise<Writer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.on("error", () => undefined);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const writer = new Writer(ws, docId, clientId, size);
    void writer.#run();
    return writer;
  }

  async #run(): Promise<void> {
    const joined = await this.#ask({ type: "join", docId: this.docId, clientId: this.clientId });
    let revision = joined?.type === "snapshot" ? joined.revision : undefined;
    for (let seq = 1; !this.#stopped && revision !== undefined; seq++) {
      const sent = performance.now();
      const op = [{ d: this.size }, { i: String.fromCharCode(97 + (seq % 26)).repeat(this.size) }];
      const answer = await this.#ask({ type: "op", docId: this.docId, clientId: this.clientId, seq, revision, op });
      revision = answer?.type === "ack" ? answer.revision : undefined;
      if (revision !== undefined) this.acked++;
      // At most 100 ops a second: the default rate limit.
      const wait = 10 - (performance.now() - sent);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  #ask(message: object): Promise<{ type: string; revision?: number } | undefined> {
    return new Promise((resolve) => {
      this.#answer = (answer) => {
        this.#answer = undefined;
        resolve(answer);
      };
      if (this.ws.readyState !== WebSocket.OPEN) this.#answer(undefined);
      else this.ws.send(JSON.stringify(message));
    });
  }

  stop(): void {
    this.#stopped = true;
    this.ws.terminate();
  }
}

async function connectionFlood(ctx: RowContext): Promise<string> {
  const held: RawWebSocket[] = [];
  const statuses = new Map<number, number>();
  try {
    for (let round = 0; round < 10 && performance.now() < ctx.deadline; round++) {
      const batch = await Promise.all(Array.from({ length: 200 }, () => rawWebSocket(ctx.port, "/ws").catch(() => undefined)));
      for (const raw of batch) {
        if (raw === undefined) continue;
        statuses.set(raw.status, (statuses.get(raw.status) ?? 0) + 1);
        if (raw.status === 101) held.push(raw);
        else raw.socket.destroy();
      }
    }
    const open = await connections(ctx);
    return `${[...statuses].map(([status, count]) => `${count} x ${status}`).join(", ")}; connections the server holds: ${open} (the probe's included)`;
  } finally {
    for (const raw of held) raw.socket.destroy();
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

/** The table of the attack rows. */
export function formatAttack(result: AttackResult): string {
  const rows = result.rows.map((r) => [
    r.name,
    mb(r.peakRss),
    num(r.ping.p50, 2),
    num(r.ping.p99, 2),
    num(r.ping.max, 1),
    String(r.pingsLost),
    num(r.serverLoopDelay.p99, 1),
    num(r.serverLoopDelay.max, 1),
    r.outcome,
  ]);
  return `Attacks (one fresh server each, default limits; another client pings every ${PING_INTERVAL_MS} ms; the server's event-loop delay)\n${formatTable(
    ["attack", "peak RSS MB", "ping p50 ms", "p99", "max", "lost", "loop p99", "loop max", "what the server did"],
    rows,
  )}`;
}

/** Per row: peak RSS under 200 MB, another client's ping p99 under 50 ms. */
export function attackTargets(result: AttackResult): TargetCheck[] {
  return result.rows.flatMap((r) => [
    check(
      `attack ${r.name}: server peak RSS`,
      "< 200 MB",
      r.peakRss,
      (v) => `${mb(v)} MB`,
      (v) => v < RSS_TARGET_BYTES,
    ),
    check(
      `attack ${r.name}: another client's ping p99`,
      `< ${PING_P99_TARGET_MS} ms`,
      r.ping.p99,
      (v) => `${num(v, 2)} ms`,
      (v) => v < PING_P99_TARGET_MS,
    ),
  ]);
}

/** Flat figures for `--baseline`. */
export function attackMetrics(result: AttackResult): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const r of result.rows) {
    metrics[`attack.${r.name}.peakRssMB`] = r.peakRss / 1024 / 1024;
    metrics[`attack.${r.name}.pingP99`] = r.ping.p99;
  }
  return metrics;
}
