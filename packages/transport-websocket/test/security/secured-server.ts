// The WebSocket binding over the real Hub and Server (in-memory backend) on 127.0.0.1:0, with
// every layer's options open to a test, as an attacker meets a deployment.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Hub, MemoryBackend, Server, type HubOptions, type ServerOptions } from "@open-ot/server";
import { attachWebSocketServer, type WebSocketBinding, type WebSocketServerOptions } from "../../src/server.js";

export interface SecuredServer {
  readonly http: HttpServer;
  readonly binding: WebSocketBinding;
  readonly hub: Hub;
  readonly backend: MemoryBackend;
  readonly port: number;
  /** `ws://127.0.0.1:<port><path>` */
  url(path?: string): string;
  close(): Promise<void>;
}

export interface SecuredServerOptions {
  readonly binding?: Omit<WebSocketServerOptions, "hub" | "server">;
  readonly server?: ServerOptions;
  readonly hub?: Omit<HubOptions, "server">;
}

export async function startSecuredServer(options: SecuredServerOptions = {}): Promise<SecuredServer> {
  const backend = new MemoryBackend();
  const hub = new Hub({ server: new Server(backend, options.server), createOnJoin: true, ...options.hub });
  const http = createServer((_req, res) => res.writeHead(404).end());
  const binding = attachWebSocketServer({ ...options.binding, hub, server: http });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    http,
    binding,
    hub,
    backend,
    port,
    url: (path = "/ws") => `ws://127.0.0.1:${port}${path}`,
    async close() {
      await binding.close();
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await backend.close();
    },
  };
}

/** Open TCP connections of the HTTP server, upgraded ones included. */
export function openSockets(http: HttpServer): Promise<number> {
  return new Promise((resolve, reject) => http.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}
