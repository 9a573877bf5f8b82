// Starts an http.Server on 127.0.0.1:0 with the WebSocket binding attached, for binding tests.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { attachWebSocketServer, type WebSocketBinding, type WebSocketServerOptions } from "../src/server.js";

export interface BindingServer {
  readonly http: Server;
  readonly binding: WebSocketBinding;
  readonly port: number;
  /** `ws://127.0.0.1:<port><path>` */
  url(path?: string): string;
  /** Close the binding (gracefully) and the HTTP server. */
  close(): Promise<void>;
}

export async function startBindingServer(options: Omit<WebSocketServerOptions, "server">): Promise<BindingServer> {
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const binding = attachWebSocketServer({ ...options, server: http });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    http,
    binding,
    port,
    url: (path = "/ws") => `ws://127.0.0.1:${port}${path}`,
    async close() {
      await binding.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
