import type { Socket, SocketEvents } from "./socket.js";
import { WebSocketTransportError } from "./transport-error.js";

/**
 * The part of the WHATWG `WebSocket` the transport uses. Browsers' `WebSocket`, Node 22's
 * global `WebSocket` and the `ws` class all fit it.
 */
export interface BrowserWebSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: "arraybuffer" | "blob" | "nodebuffer" | "fragments";
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { readonly code: number; readonly reason: string }) => void): void;
}

/** A `WebSocket` constructor in the WHATWG shape, such as `globalThis.WebSocket`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => BrowserWebSocket;

const OPEN = 1;

/** Wrap a WHATWG `WebSocket`: used in browsers, and in Node when one is passed or global. */
export function createNativeSocket(
  WebSocketClass: WebSocketConstructor,
  url: string,
  protocols: string | string[] | undefined,
  events: SocketEvents,
): Socket {
  const ws = protocols === undefined ? new WebSocketClass(url) : new WebSocketClass(url, protocols);
  // ArrayBuffer rather than the default Blob: a Blob can only be read asynchronously, which
  // could reorder a binary frame behind the text frames that follow it.
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  let reportClosed!: () => void;
  const closed = new Promise<void>((resolve) => (reportClosed = resolve));

  ws.addEventListener("open", () => events.open());
  ws.addEventListener("message", (event) => {
    const { data } = event;
    if (typeof data === "string") events.message(data);
    else if (data instanceof ArrayBuffer) events.message(decoder.decode(data));
    else if (ArrayBuffer.isView(data)) events.message(decoder.decode(data));
    else events.message(String(data));
  });
  // Browsers deliberately give no detail about a failed connection (no status, no errno).
  ws.addEventListener("error", () => events.error(new Error("WebSocket error (the browser gives no detail)")));
  ws.addEventListener("close", (event) => {
    events.close(event.code, event.reason);
    reportClosed();
  });

  return {
    send(text) {
      // A browser WebSocket silently discards data sent while closing; refuse it instead.
      if (ws.readyState !== OPEN) {
        return Promise.reject(new WebSocketTransportError("closed", "The WebSocket is no longer open; the message was not sent."));
      }
      try {
        ws.send(text);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(new WebSocketTransportError("closed", "The WebSocket refused the message.", { cause: error }));
      }
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    terminate() {
      // WHATWG sockets have no terminate; close() during the handshake fails the connection.
      ws.close();
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    refusal: undefined,
    closed,
  };
}
