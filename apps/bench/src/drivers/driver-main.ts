/**
 * A load-driver child process: holds the load clients of one run, starts and stops their submit
 * loops on the parent's signal, and reports what they measured. It runs in its own process so
 * that the clients never share an event loop (or a core) with a server under test.
 */
import { createHash } from "node:crypto";
import { emitToParent, serveParent } from "../ipc.js";
import { seededRandom } from "@open-ot/harness";
import { wallClock } from "./edit-generator.js";
import type { LoadClient, LoadClientKind, LoadClientSpec } from "./load-client.js";
import { LoadMetrics, type LoadMetricsData } from "./load-metrics.js";
import { OpenOtLoadClient } from "./openot-load-client.js";
import { OTConnection } from "@open-ot/client";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { OTClientLoadClient } from "./otclient-load-client.js";
import { PresenceLoadClient } from "./presence-load-client.js";
import { RelayLoadClient } from "./relay-load-client.js";
import { ShareDbLoadClient } from "./sharedb-load-client.js";

/** The systems a load client can drive. */
export type SystemKind = "openot" | "sharedb" | "relay";

/** Parameters of the `setup` request. */
export interface DriverSetup {
  readonly system: SystemKind;
  readonly clients: readonly LoadClientSpec[];
  /** Document size the edits keep, in characters. */
  readonly targetSize: number;
  /** Seed of the edit positions. */
  readonly seed: number;
  /** OpenOT only: opt in to batched frames. @default true */
  readonly batch?: boolean;
  /** OpenOT only: ops per second per client (see `OpenOtLoadClientOptions`). @default unpaced */
  readonly opsPerSecond?: number;
  /** OpenOT only: which client makes the load. @default "raw" */
  readonly loadClient?: LoadClientKind;
  /** OpenOT only: the clients are people moving their caret `hz` times a second (no edits). */
  readonly presence?: { readonly hz: number };
  /** How many clients connect at the same time. @default 50 */
  readonly connectConcurrency?: number;
}

/** Parameters of the `run` request: all times are wall clock (ms since the epoch). */
export interface DriverRun {
  /** When the submit loops start. */
  readonly startAt: number;
  /** When measuring starts (after the warm-up). */
  readonly measureFrom: number;
  /** When measuring ends and the loops stop. */
  readonly measureTo: number;
  /** How long to wait for the last ops in flight after `measureTo`, ms. */
  readonly drainTimeoutMs: number;
}

/** Answer to `run`. */
export interface DriverRunResult {
  readonly metrics: LoadMetricsData;
  /** Highest revision any client saw, per document. */
  readonly revisions: Record<string, number>;
  /** Clients whose op in flight was not acknowledged within the drain timeout. */
  readonly stuck: number;
}

/** Answer to `converge`. */
export interface DriverConvergeResult {
  /** Per document, the SHA-1 of every client's text (`null` for clients without a document). */
  readonly hashes: Record<string, (string | null)[]>;
  /** Clients that did not reach the requested revision within the timeout. */
  readonly lagging: number;
}

/** How long one client may take to connect and join before the setup fails. */
const CONNECT_TIMEOUT_MS = 20_000;

let clients: LoadClient[] = [];
/** Connections shared by the clients of one `connectionGroup`. */
let sharedConnections = new Map<number, OTConnection>();

function sharedConnection(setup: DriverSetup, spec: LoadClientSpec): OTConnection | undefined {
  if (spec.connectionGroup === undefined || setup.loadClient !== "connection") return undefined;
  let connection = sharedConnections.get(spec.connectionGroup);
  if (connection === undefined) {
    const batch = setup.batch ?? true;
    connection = new OTConnection({ transport: new WebSocketTransport(`${spec.url}/ws${batch ? "?batch=1" : ""}`), batch });
    sharedConnections.set(spec.connectionGroup, connection);
  }
  return connection;
}

const sleepUntil = (t: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - wallClock())));
const metrics = new LoadMetrics();

function createClient(setup: DriverSetup, spec: LoadClientSpec): LoadClient {
  const random = seededRandom(setup.seed * 100_003 + spec.index);
  switch (setup.system) {
    case "openot":
      if (setup.presence !== undefined)
        return new PresenceLoadClient(spec, metrics, { hz: setup.presence.hz, maxPosition: Math.floor(setup.targetSize * 0.9), random });
      if (setup.loadClient !== undefined && setup.loadClient !== "raw") {
        if (setup.opsPerSecond !== undefined)
          throw new Error(`the ${setup.loadClient} load client submits on the ack only (no opsPerSecond)`);
        const shared = sharedConnection(setup, spec);
        return new OTClientLoadClient(spec, metrics, {
          targetSize: setup.targetSize,
          random,
          batch: setup.batch ?? true,
          kind: setup.loadClient,
          ...(shared === undefined ? {} : { sharedConnection: shared }),
        });
      }
      return new OpenOtLoadClient(spec, metrics, {
        targetSize: setup.targetSize,
        random,
        batch: setup.batch ?? true,
        ...(setup.opsPerSecond === undefined ? {} : { opsPerSecond: setup.opsPerSecond }),
      });
    case "sharedb":
      return new ShareDbLoadClient(spec, metrics, { targetSize: setup.targetSize, random });
    case "relay":
      return new RelayLoadClient(spec, metrics, { targetSize: setup.targetSize, random });
  }
}

/** Run `task` over `items` with at most `limit` at a time. */
async function inBatches<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve("timeout"), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function closeAll(): Promise<void> {
  const closing = clients;
  clients = [];
  sharedConnections = new Map();
  await withTimeout(Promise.all(closing.map((c) => c.close())), 5_000);
}

serveParent({
  async setup(params: DriverSetup): Promise<{ connected: number }> {
    clients = params.clients.map((spec) => createClient(params, spec));
    await inBatches(clients, params.connectConcurrency ?? 50, async (c) => {
      if ((await withTimeout(c.connect(), CONNECT_TIMEOUT_MS)) === "timeout") {
        throw new Error(`a ${params.system} client of ${c.docId} was not joined within ${CONNECT_TIMEOUT_MS / 1000} s`);
      }
    });
    return { connected: clients.length };
  },

  async run(params: DriverRun): Promise<DriverRunResult> {
    metrics.setWindow(params.measureFrom, params.measureTo);
    await sleepUntil(params.startAt);
    for (const c of clients) c.start();
    await sleepUntil(params.measureFrom);
    metrics.windowOpened();
    await sleepUntil(params.measureTo);
    metrics.windowClosed();
    let stuck = 0;
    await Promise.all(
      clients.map(async (c) => {
        if ((await withTimeout(c.stop(), params.drainTimeoutMs)) === "timeout") stuck += 1;
      }),
    );
    const revisions: Record<string, number> = {};
    for (const c of clients) revisions[c.docId] = Math.max(revisions[c.docId] ?? -1, c.revision);
    return { metrics: metrics.toJSON(), revisions, stuck };
  },

  async converge(params: { revisions: Record<string, number>; timeoutMs: number }): Promise<DriverConvergeResult> {
    let lagging = 0;
    await Promise.all(
      clients.map(async (c) => {
        const target = params.revisions[c.docId] ?? -1;
        if ((await withTimeout(c.waitForRevision(target), params.timeoutMs)) === "timeout") lagging += 1;
      }),
    );
    const hashes: Record<string, (string | null)[]> = {};
    for (const c of clients) {
      const text = c.text();
      // Presence people keep no document; the relay's clients neither (its convergence is not checked).
      if (text === undefined) continue;
      (hashes[c.docId] ??= []).push(createHash("sha1").update(text).digest("hex"));
    }
    return { hashes, lagging };
  },

  async close(): Promise<void> {
    await closeAll();
  },

  async stop(): Promise<void> {
    await closeAll();
  },
});

emitToParent("ready", { pid: process.pid });
