/**
 * A driver child process for the reconnect storm: many real clients (OTClient over
 * ReconnectingTransport over WebSocketTransport, all with their default reconnect policy and
 * jitter) on one document. It reports when each of them is back live at the document's
 * revision after its server was restarted.
 */
import { TextType, type TextOp } from "@open-ot/core";
import { OTClient, type ConnectionState } from "@open-ot/client";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { emitToParent, serveParent } from "../ipc.js";
import { wallClock } from "./edit-generator.js";

/** One client and what the storm did to it. */
interface Tracked {
  readonly client: OTClient<string, TextOp>;
  /** When it was seen off line after `arm` (wall clock), if it was. */
  droppedAt: number | undefined;
  /** When it was next live at the target revision (wall clock), if it was. */
  resyncedAt: number | undefined;
}

/** Answer of `awaitResynced`. */
export interface StormResult {
  /** Clients live at the target revision again, after having dropped. */
  readonly resynced: number;
  /** Wall-clock time each resynced client was back, sorted. */
  readonly resyncTimes: number[];
  /** Clients that never dropped (the restart did not reach them). */
  readonly neverDropped: number;
  /** Clients still not back at the deadline. */
  readonly missing: number;
  /** Reconnect errors seen, by code. */
  readonly errors: Record<string, number>;
}

let tracked: Tracked[] = [];
let target = 0;
let armed = false;
const errors: Record<string, number> = {};
let notify: (() => void) | undefined;

function check(t: Tracked, state: ConnectionState): void {
  if (!armed) return;
  const now = wallClock();
  if (state !== "live") {
    t.droppedAt ??= now;
    return;
  }
  if (t.droppedAt !== undefined && t.resyncedAt === undefined && t.client.revision >= target) {
    t.resyncedAt = now;
    notify?.();
  }
}

async function connectAll(params: { url: string; docId: string; count: number; concurrency?: number }): Promise<{ revision: number }> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < params.count) {
      next += 1;
      const transport = new ReconnectingTransport(() => new WebSocketTransport(`${params.url}/ws?batch=1`));
      const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: params.docId, batch: true });
      const t: Tracked = { client, droppedAt: undefined, resyncedAt: undefined };
      client.on("connection", (state) => check(t, state));
      // A client that joined live but is behind reaches the revision through ops and acks.
      client.on("remoteOp", () => check(t, client.connectionState));
      client.on("snapshot", () => check(t, client.connectionState));
      client.on("error", (error) => {
        errors[error.code] = (errors[error.code] ?? 0) + 1;
      });
      await client.connect();
      tracked.push(t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(params.concurrency ?? 100, params.count) }, worker));
  // One edit so that the rejoin has a revision to resume from and a replay to check.
  const first = tracked[0]?.client;
  if (first !== undefined) {
    first.submit([{ i: "storm " }]);
    await new Promise<void>((resolve) => {
      const off = first.on("ack", () => {
        off();
        resolve();
      });
    });
  }
  const revision = first?.revision ?? 0;
  await Promise.all(
    tracked.map(
      (t) =>
        new Promise<void>((resolve) => {
          if (t.client.revision >= revision) {
            resolve();
            return;
          }
          const off = t.client.on("remoteOp", () => {
            if (t.client.revision < revision) return;
            off();
            resolve();
          });
        }),
    ),
  );
  return { revision };
}

function awaitResynced(params: { timeoutMs: number }): Promise<StormResult> {
  const result = (): StormResult => {
    const times = tracked.flatMap((t) => (t.resyncedAt === undefined ? [] : [t.resyncedAt])).sort((a, b) => a - b);
    return {
      resynced: times.length,
      resyncTimes: times,
      neverDropped: tracked.filter((t) => t.droppedAt === undefined).length,
      missing: tracked.length - times.length,
      errors: { ...errors },
    };
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      notify = undefined;
      resolve(result());
    }, params.timeoutMs);
    notify = () => {
      if (tracked.some((t) => t.resyncedAt === undefined)) return;
      clearTimeout(timer);
      notify = undefined;
      resolve(result());
    };
    notify();
  });
}

async function closeAll(): Promise<void> {
  const closing = tracked;
  tracked = [];
  await Promise.all(closing.map((t) => t.client.disconnect().catch(() => undefined)));
}

serveParent({
  connectAll,
  arm: (params: { revision: number }) => {
    target = params.revision;
    armed = true;
  },
  awaitResynced,
  closeAll,
  stop: closeAll,
});

emitToParent("ready", { pid: process.pid });
