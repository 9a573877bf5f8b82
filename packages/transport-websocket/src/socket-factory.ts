import { createNativeSocket, type WebSocketConstructor } from "./native-socket.js";
import { createNodeSocket, loadNodeWebSocket } from "./node-socket.js";
import type { Socket, SocketEvents } from "./socket.js";
import { WebSocketTransportError } from "./transport-error.js";

/** What {@link createSocket} needs to open one connection. */
export interface SocketInit {
  readonly url: string;
  readonly protocols: string | string[] | undefined;
  /** Upgrade request headers; only `ws` can send them. */
  readonly headers: Record<string, string> | undefined;
  /** An explicit WHATWG constructor; otherwise `globalThis.WebSocket`, else `ws`. */
  readonly WebSocket: WebSocketConstructor | undefined;
}

/** Builds one socket; it is synchronous so that no event can fire before the caller holds the socket. */
export type SocketFactory = (events: SocketEvents) => Socket;

/**
 * Pick the implementation for `init`. `ws` is imported only when it is needed (no global
 * WebSocket, or headers to send), so browser bundles never execute it.
 */
export async function resolveSocketFactory(init: SocketInit): Promise<SocketFactory> {
  const needsHeaders = init.headers !== undefined && Object.keys(init.headers).length > 0;
  if (init.WebSocket !== undefined) {
    if (needsHeaders) {
      throw new WebSocketTransportError(
        "unsupported",
        "A WHATWG WebSocket cannot send upgrade headers: drop the `WebSocket` option to use 'ws' in Node, or send the token as a query parameter (`tokenPlacement: \"query\"`).",
      );
    }
    const WebSocketClass = init.WebSocket;
    return (events) => createNativeSocket(WebSocketClass, init.url, init.protocols, events);
  }
  const globalWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!needsHeaders && typeof globalWebSocket === "function") {
    return (events) => createNativeSocket(globalWebSocket, init.url, init.protocols, events);
  }
  const NodeWebSocket = await loadNodeWebSocket();
  return (events) => createNodeSocket(NodeWebSocket, init.url, init.protocols, init.headers, events);
}
