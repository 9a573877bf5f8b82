import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { ReconnectingTransport, type ReconnectingTransportOptions } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import type { TransportKind } from "./page-params.js";
import type { ServerRotation } from "./server-rotation.js";

/** Options of {@link createEditorTransport}. */
export interface EditorTransportOptions {
  /** The instances to use; each attempt takes the next one (see {@link ServerRotation}). */
  readonly rotation: ServerRotation;
  /** WebSocket (`<server>/ws`) or SSE (`<server>/events` + `<server>/messages`). */
  readonly kind: TransportKind;
  /** Passed to the reconnecting wrapper (backoff, heartbeat...). @default the wrapper's defaults */
  readonly reconnect?: ReconnectingTransportOptions;
}

/**
 * The editor's connection: a {@link ReconnectingTransport} whose factory builds a fresh
 * WebSocket or SSE transport to the next server of the rotation on every attempt. Only the
 * first attempt and the attempts after a drop or a failure call the factory, so a client stays
 * on its instance while it works and moves on when it stops (a 1001 close reconnects at once).
 * Works in browsers and in Node (the tests run 20 of these).
 */
export function createEditorTransport(options: EditorTransportOptions): ReconnectingTransport {
  const { rotation, kind } = options;
  return new ReconnectingTransport<unknown>(() => {
    const server = rotation.next();
    return kind === "ws" ? new WebSocketTransport<unknown>(`${server}/ws`) : new HttpSseTransport<unknown>(server);
  }, options.reconnect);
}
