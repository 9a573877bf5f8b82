import { seededRandom } from "@open-ot/harness";
import { LazyText, TextType, type TextOp } from "@open-ot/core";
import type { LoadClient, LoadClientKind, LoadClientSpec } from "../drivers/load-client.js";
import { LoadMetrics } from "../drivers/load-metrics.js";
import { editToTextOp, OpenOtLoadClient } from "../drivers/openot-load-client.js";
import { OTClientLoadClient } from "../drivers/otclient-load-client.js";
import { initialText, makeStamp, nextEdit } from "../drivers/edit-generator.js";
import { ReplaySocket, type ReplayPeer } from "../drivers/replay-socket.js";
import { formatTable, num } from "../report/table.js";
import { check, type TargetCheck } from "../report/target-check.js";

/** Options of the client-cost scenario (the command line's values in brackets). */
export interface ClientCostOptions {
  /** Clients on the hot documents whose traffic one client receives, a trace each (`--clients`, 10,50). */
  readonly clients: readonly number[];
  /** Messages per frame, as the server's batches hold them under load (12). */
  readonly frameSize: number;
  /** Messages each replay delivers (60,000). */
  readonly messages: number;
  /** Measured replays of each client, taken in turns (9). */
  readonly rounds: number;
  /** Document size kept by the edits, in characters (`--doc-size`, 1000). */
  readonly docSize: number;
  /** The clients measured; the raw client always comes first, as the reference. */
  readonly loadClients: readonly LoadClientKind[];
}

/** One client's figures at one N. */
export interface ClientCostRow {
  readonly clients: number;
  readonly loadClient: LoadClientKind;
  /** Median over the rounds of the process's CPU time per delivered message, µs. */
  readonly usPerMessage: number;
  readonly minUsPerMessage: number;
  readonly maxUsPerMessage: number;
  /**
   * Median over the rounds of this client's figure over the raw client's in the same round (the
   * two replays run one after the other, so a slower spell of the machine meets both).
   */
  readonly vsRaw: number | undefined;
  /** Own ops the client submitted during a replay. */
  readonly submitted: number;
}

/** The scenario's rows, and what the replays held. */
export interface ClientCostResult {
  readonly rows: ClientCostRow[];
  readonly frameSize: number;
  readonly messages: number;
  readonly rounds: number;
}

const DOC_ID = "cost";
const SEED = 7;
/** The stamps of the trace's other clients carry a fixed time of the same width as a real one. */
const TRACE_CLOCK = 1_700_000_000_000;

/** Let the microtasks queued so far run (a load client may queue its next op as one). */
const settled = (): Promise<void> => Promise.resolve();

/** A recorded stream of frames one client of a hot document receives, and the text it ends with. */
interface Trace {
  readonly snapshot: string;
  readonly frames: readonly string[];
  readonly messages: number;
  readonly revision: number;
  /** The recording client's text at the end, stamp digits masked. */
  readonly text: string;
}

/**
 * The client-cost scenario: what a client spends per received message, measured without a
 * server or a network in the same process. A simulated hot document of N clients is recorded
 * once against the raw client (the other N - 1 clients' ops, the measured client's acks after a
 * round of them, in batched frames); then every client under test gets exactly those frames,
 * over the product's `WebSocketTransport` for `OTClient` and `OTConnection`, and the CPU time
 * of the replay is divided by the messages. The e2e hot runs measure the same ratio with a
 * server beside the driver on the same cores, which scatters single runs widely; this one
 * does not.
 */
export async function runClientCost(options: ClientCostOptions, log: (line: string) => void): Promise<ClientCostResult> {
  const kinds: LoadClientKind[] = ["raw", ...options.loadClients.filter((k) => k !== "raw")];
  const rows: ClientCostRow[] = [];
  for (const clients of options.clients) {
    const trace = await recordTrace(clients, options);
    const samples = new Map<LoadClientKind, number[]>(kinds.map((k) => [k, []]));
    const submitted = new Map<LoadClientKind, number>();
    // A first replay of each warms the JIT; then the clients take turns, so that a change of
    // the machine's speed meets all of them alike.
    for (const kind of kinds) await replay(kind, trace, options);
    for (let round = 0; round < options.rounds; round++) {
      for (const kind of kinds) {
        const run = await replay(kind, trace, options);
        samples.get(kind)?.push(run.cpuUs / trace.messages);
        submitted.set(kind, run.submitted);
      }
    }
    const raw = samples.get("raw") ?? [];
    for (const kind of kinds) {
      const values = samples.get(kind) ?? [];
      const usPerMessage = median(values);
      const ratios = values.map((v, round) => v / (raw[round] as number));
      rows.push({
        clients,
        loadClient: kind,
        usPerMessage,
        minUsPerMessage: Math.min(...values),
        maxUsPerMessage: Math.max(...values),
        vsRaw: kind === "raw" ? undefined : median(ratios),
        submitted: submitted.get(kind) ?? 0,
      });
      log(`  client-cost N=${clients} ${kind}: ${num(usPerMessage, 2)} µs per message (${values.map((v) => num(v, 2)).join(", ")})`);
    }
  }
  return { rows, frameSize: options.frameSize, messages: options.messages, rounds: options.rounds };
}

/** The scenario's table. */
export function formatClientCost(result: ClientCostResult): string {
  return (
    `client cost per received message, replayed in process (${result.messages.toLocaleString("en-US")} messages in frames of ${result.frameSize}, ` +
    `median of ${result.rounds} replays; vs raw: median of the rounds' ratios)\n` +
    formatTable(
      ["N / client", "µs/msg", "min", "max", "vs raw", "own ops"],
      result.rows.map((r) => [
        `N=${r.clients} ${r.loadClient}`,
        num(r.usPerMessage, 2),
        num(r.minUsPerMessage, 2),
        num(r.maxUsPerMessage, 2),
        r.vsRaw === undefined ? "" : `${num(r.vsRaw, 2)}x`,
        String(r.submitted),
      ]),
    )
  );
}

/** Issue 19's target: the product's clients within 1.5x of the raw client per received message. */
export function clientCostTargets(result: ClientCostResult): TargetCheck[] {
  return result.rows
    .filter((r) => r.loadClient !== "raw")
    .map((r) =>
      check(
        `N=${r.clients} ${r.loadClient} µs per received message / raw client's (replayed)`,
        "≤ 1.5x",
        r.vsRaw,
        (v) => `${num(v, 2)}x`,
        (v) => v <= 1.5,
      ),
    );
}

/** Flat figures for `--baseline`. */
export function clientCostMetrics(result: ClientCostResult): Record<string, number> {
  return Object.fromEntries(result.rows.map((r) => [`clientCost.n${r.clients}.${r.loadClient}.usPerMessage`, r.usPerMessage]));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Digits masked: the clients' own stamps carry their send time, which differs between replays. */
function masked(text: string | undefined): string {
  return (text ?? "").replace(/\d/g, "#");
}

function spec(): LoadClientSpec {
  return { index: 0, instance: 0, url: "ws://replay.invalid", docId: DOC_ID };
}

function makeClient(kind: LoadClientKind, peer: ReplayPeer, metrics: LoadMetrics, docSize: number): LoadClient {
  const random = seededRandom(SEED);
  if (kind === "raw")
    return new OpenOtLoadClient(spec(), metrics, { targetSize: docSize, random, openSocket: () => new ReplaySocket(peer) });
  return new OTClientLoadClient(spec(), metrics, { targetSize: docSize, random, kind, WebSocket: ReplaySocket.for(peer) });
}

/**
 * Record the frames one client of a hot document of `clients` receives: the raw client runs
 * against a simulated server that commits the other clients' ops (made as the load clients make
 * theirs) and the client's own op after a round of the others, the way one op in flight per
 * client comes out of the real server.
 */
async function recordTrace(clients: number, options: ClientCostOptions): Promise<Trace> {
  const snapshot = JSON.stringify({
    type: "snapshot",
    docId: DOC_ID,
    docType: TextType.name,
    revision: 0,
    data: initialText(options.docSize),
  });
  let socket: ReplaySocket | undefined;
  let doc = LazyText.of(initialText(options.docSize));
  let revision = 0;
  const log: TextOp[] = [];
  let own: { op: TextOp; base: number; seq: number } | undefined;
  let othersSinceOwn = 0;
  /** The client's op in flight transformed over every op committed since its base, as the server commits it. */
  const ownCaughtUp = (pending: { op: TextOp; base: number }): TextOp => {
    let op = pending.op;
    for (let r = pending.base; r < revision; r++) op = TextType.transform(op, log[r] as TextOp, "right");
    return op;
  };
  const peer: ReplayPeer = {
    opened: (s) => (socket = s),
    received: (text) => {
      const message = JSON.parse(text) as { type: string; op?: TextOp; revision?: number; seq?: number };
      if (message.type === "join") queueMicrotask(() => socket?.deliver(snapshot));
      else if (message.type === "op") {
        own = { op: message.op as TextOp, base: message.revision as number, seq: message.seq as number };
        othersSinceOwn = 0;
      }
    },
  };
  const metrics = new LoadMetrics();
  const client = makeClient("raw", peer, metrics, options.docSize);
  await client.connect();
  client.start();
  const random = seededRandom(SEED + clients);
  const seqs = new Array<number>(Math.max(1, clients - 1)).fill(0);
  const frames: string[] = [];
  let messages = 0;
  let other = 0;
  while (messages < options.messages) {
    const batch: object[] = [];
    for (let i = 0; i < options.frameSize; i++) {
      if (own !== undefined && othersSinceOwn >= clients - 1) {
        const op = ownCaughtUp(own);
        doc = doc.apply(op);
        log.push(op);
        revision += 1;
        batch.push({ type: "ack", docId: DOC_ID, revision, seq: own.seq });
        own = undefined;
      } else {
        const author = other % seqs.length;
        other += 1;
        const seq = (seqs[author] = (seqs[author] ?? 0) + 1);
        const op = editToTextOp(nextEdit(doc.length, options.docSize, makeStamp(1, TRACE_CLOCK + other / 1000), random));
        doc = doc.apply(op);
        log.push(op);
        revision += 1;
        othersSinceOwn += 1;
        batch.push({ type: "op", docId: DOC_ID, op, revision, author: `author-${String(author).padStart(9, "0")}`, seq });
      }
    }
    const frame = JSON.stringify(batch);
    frames.push(frame);
    messages += batch.length;
    socket?.deliver(frame);
    await settled();
  }
  // The client's text is the server's document plus its op in flight, if any.
  const expected = own === undefined ? doc : doc.apply(ownCaughtUp(own));
  const text = masked(client.text());
  await client.close();
  if (text !== masked(expected.toString()) || client.revision !== revision) {
    throw new Error(`client-cost: the recording client diverged from the simulated server (revision ${client.revision} of ${revision})`);
  }
  const data = metrics.toJSON();
  if (data.orderViolations > 0 || Object.keys(data.errors).length > 0) {
    throw new Error(`client-cost: the recording client reported ${JSON.stringify(data.errors)}`);
  }
  return { snapshot, frames, messages, revision, text };
}

/** Deliver the trace to a fresh client of `kind`; its CPU time, checked to end where the recording did. */
async function replay(kind: LoadClientKind, trace: Trace, options: ClientCostOptions): Promise<{ cpuUs: number; submitted: number }> {
  let socket: ReplaySocket | undefined;
  let submitted = 0;
  const peer: ReplayPeer = {
    opened: (s) => (socket = s),
    received: (text) => {
      if (text.includes('"type":"join"')) queueMicrotask(() => socket?.deliver(trace.snapshot));
      else if (text.includes('"type":"op"')) submitted += 1;
    },
  };
  const metrics = new LoadMetrics();
  const client = makeClient(kind, peer, metrics, options.docSize);
  await client.connect();
  // From here on every message counts, as inside the e2e window.
  metrics.setWindow(0, Infinity);
  client.start();
  await settled();
  const live = socket;
  if (live === undefined) throw new Error(`client-cost: the ${kind} client opened no socket`);
  submitted = 0;
  const before = process.cpuUsage();
  for (const frame of trace.frames) {
    live.deliver(frame);
    // The client's next op goes out here, between frames, as it would between two reads.
    await settled();
  }
  const used = process.cpuUsage(before);
  const text = masked(client.text());
  const revision = client.revision;
  const data = metrics.toJSON();
  await client.close();
  if (text !== trace.text || revision !== trace.revision || data.orderViolations > 0 || Object.keys(data.errors).length > 0) {
    throw new Error(
      `client-cost: the ${kind} client did not end where the recording did (revision ${revision} of ${trace.revision}, errors ${JSON.stringify(data.errors)})`,
    );
  }
  if (data.messages !== trace.messages)
    throw new Error(`client-cost: the ${kind} client counted ${data.messages} of ${trace.messages} messages`);
  return { cpuUs: used.user + used.system, submitted };
}
