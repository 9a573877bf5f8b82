import type { ClientRequest, IncomingMessage } from "node:http";
import type NodeWebSocket from "ws";
import type { HttpRefusal, Socket, SocketEvents } from "./socket.js";
import { WebSocketTransportError } from "./transport-error.js";

/** The `ws` WebSocket class. */
export type NodeWebSocketClass = typeof NodeWebSocket;

/** How much of a refused upgrade's body is kept for the error message. */
const REFUSAL_BODY_LIMIT = 1024;

/**
 * Load `ws` on demand: the only place the package touches it on the client side, so a browser
 * bundle that never needs it never executes it.
 */
export async function loadNodeWebSocket(): Promise<NodeWebSocketClass> {
  try {
    const mod = await import("ws");
    return mod.default;
  } catch (error) {
    throw new WebSocketTransportError(
      "unsupported",
      "No WebSocket implementation: globalThis.WebSocket is missing and the 'ws' package could not be loaded. Install 'ws' (Node) or drop the Node-only options `headers` and `tokenPlacement: \"header\"` (browsers).",
      { cause: error },
    );
  }
}

/** Wrap a `ws` client socket: used in Node, where it can send headers and report HTTP refusals. */
export function createNodeSocket(
  WebSocketClass: NodeWebSocketClass,
  url: string,
  protocols: string | string[] | undefined,
  headers: Record<string, string> | undefined,
  events: SocketEvents,
): Socket {
  const ws = new WebSocketClass(url, protocols, headers === undefined ? {} : { headers });
  let refusal: HttpRefusal | undefined;
  let reportClosed!: () => void;
  const closed = new Promise<void>((resolve) => (reportClosed = resolve));

  // With a listener here ws leaves the refused request to us: keep its status and the start of
  // its body (servers explain refusals there), then abort, which makes ws report error + close.
  ws.on("unexpected-response", (_request: ClientRequest, response: IncomingMessage) => {
    const status = response.statusCode ?? 0;
    refusal = { status, body: "" };
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => {
      refusal = { status, body: Buffer.concat(chunks).toString("utf8").slice(0, REFUSAL_BODY_LIMIT) };
      ws.terminate();
    };
    response.on("data", (chunk: Buffer) => {
      if (size >= REFUSAL_BODY_LIMIT) return;
      chunks.push(chunk);
      size += chunk.length;
      if (size >= REFUSAL_BODY_LIMIT) finish();
    });
    response.on("end", finish);
    response.on("error", finish);
  });
  ws.on("open", () => events.open());
  ws.on("message", (data: NodeWebSocket.RawData) => {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    events.message(buffer.toString("utf8"));
  });
  ws.on("error", (error: Error) => events.error(error));
  ws.on("close", (code: number, reason: Buffer) => {
    events.close(code, reason.toString("utf8"));
    reportClosed();
  });

  return {
    send(text) {
      return new Promise<void>((resolve, reject) => {
        if (ws.readyState !== WebSocketClass.OPEN) {
          reject(new WebSocketTransportError("closed", "The WebSocket is no longer open; the message was not sent."));
          return;
        }
        ws.send(text, (error) => {
          if (error)
            reject(new WebSocketTransportError("closed", "The WebSocket closed before the message was written.", { cause: error }));
          else resolve();
        });
      });
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    terminate() {
      ws.terminate();
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    get refusal() {
      return refusal;
    },
    closed,
  };
}
