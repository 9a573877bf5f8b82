// The cast of every fault test: OT clients on WebSocket and on SSE, each with the offline queue
// on and off, editing one document.
import { seededRandom, waitUntil } from "@open-ot/harness";
import type { ReconnectingTransportOptions } from "../../src/index.js";
import { Editor, type Wire } from "./editor.js";

export interface CastOptions {
  readonly baseUrl: () => string;
  readonly docId: string;
  readonly seed: number;
  readonly transport?: ReconnectingTransportOptions;
}

/** Fast reconnects for loopback tests; the heartbeat stays at its default unless a test needs it. */
export const FAST_RECONNECT: ReconnectingTransportOptions = {
  backoff: { initialDelay: 50, maxDelay: 400 },
  minUptime: 500,
  connectTimeout: 4_000,
};

export async function startCast(options: CastOptions): Promise<Editor[]> {
  const random = seededRandom(options.seed);
  const roles: Array<[string, Wire, boolean]> = [
    ["wsq", "ws", true],
    ["ws", "ws", false],
    ["sseq", "sse", true],
    ["sse", "sse", false],
  ];
  const editors = roles.map(
    ([name, wire, queue]) =>
      new Editor({
        name,
        wire,
        baseUrl: options.baseUrl,
        docId: options.docId,
        random: seededRandom(Math.floor(random() * 2 ** 32)),
        transport: { ...FAST_RECONNECT, ...options.transport, ...(queue ? {} : { queue: false }) },
      }),
  );
  await Promise.all(editors.map((e) => e.client.connect()));
  return editors;
}

export async function stopCast(editors: readonly Editor[]): Promise<void> {
  for (const editor of editors) editor.stopEditing();
  await Promise.allSettled(editors.map((e) => e.client.disconnect()));
}

/** Wait until every editor has made `count` more edits than it had. */
export async function moreEdits(editors: readonly Editor[], count: number): Promise<void> {
  const start = editors.map((e) => e.markers.length);
  await waitUntil(() => editors.every((e, i) => e.markers.length >= start[i]! + count), `${count} more edits by every editor`, 10_000);
}

/** The seed of this run: RECONNECT_SEED to replay one, else a fresh one (printed on failure by the test name). */
export function runSeed(): number {
  const fromEnv = Number(process.env.RECONNECT_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
}
