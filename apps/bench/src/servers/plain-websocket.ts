import { createServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

/** A bare `ws` server on its own HTTP server, as the reference servers (relays, ShareDB) use it. */
export interface PlainWebSocketServer {
  readonly http: HttpServer;
  readonly wss: WebSocketServer;
  /** Start listening on 127.0.0.1 (`0`: a free port); resolves to the port. */
  listen(port?: number): Promise<number>;
  /** Terminate every connection, then close the `ws` server and the HTTP server. */
  close(): Promise<void>;
}

/** An HTTP server that answers plain requests 426 and a `ws` server on it, without compression. */
export function plainWebSocketServer(): PlainWebSocketServer {
  const http = createServer((_req, res) => {
    res.writeHead(426).end();
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  return {
    http,
    wss,
    listen: async (port = 0) => {
      await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
      return (http.address() as AddressInfo).port;
    },
    close: async () => {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** The document a relay connection is for: its `docId` query parameter (`doc-1` without one). */
export function docIdOf(req: IncomingMessage): string {
  return new URL(req.url ?? "/", "http://x").searchParams.get("docId") ?? "doc-1";
}
