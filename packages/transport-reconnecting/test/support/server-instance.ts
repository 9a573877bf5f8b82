// One server instance for the real-network tests: an http.Server on 127.0.0.1 with the
// WebSocket binding and the SSE handler over one Hub. The backend is passed in, so a test can
// kill an instance and start a new one (new http server, bindings and hub) on the same port over
// the same in-memory documents, as a restarted process over a database would be.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ServerMessage } from "@open-ot/core";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { trackConnections, type TrackedConnection } from "@open-ot/testing";
import { createSseHandler, type SseHandler } from "@open-ot/transport-http-sse/server";
import { attachWebSocketServer, type WebSocketBinding } from "@open-ot/transport-websocket/server";

export interface ServerInstance {
  readonly port: number;
  readonly backend: MemoryBackend;
  /** `ws://127.0.0.1:<port>/ws` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:<port>` */
  readonly httpUrl: string;
  /** Hub connections opened so far (both bindings), still open or not. */
  readonly connections: readonly TrackedConnection[];
  /** Close every open connection from the server side with `code` (a protocol close). */
  closeAll(code: number, reason: string): void;
  /** While set, every new connection is closed with this code as soon as it is plugged in. */
  closeOnConnect: { code: number; reason: string } | undefined;
  /** While true, every `ack` is dropped on its way out (committed, but its client never hears). */
  dropAcks: boolean;
  /** Shut down the bindings gracefully (1001 to everyone), then the hub and the http server. */
  stop(): Promise<void>;
  /** Die: every socket destroyed at once (clients see 1006 or a broken stream, no close frame). */
  kill(): Promise<void>;
}

export interface InstanceOptions {
  /** Documents and their history; keep the same object across a restart. @default a new MemoryBackend */
  backend?: MemoryBackend;
  /** @default 0 */
  port?: number;
  /** Token check of both bindings. @default undefined (no authentication) */
  verifyToken?: (token: string) => boolean | Promise<boolean>;
  /** The hub's documents-per-connection limit. @default the hub's */
  maxDocumentsPerConnection?: number;
}

export async function startServerInstance(options: InstanceOptions = {}): Promise<ServerInstance> {
  // Every op is kept: the tests audit the whole history for exactly-once (the default keeps 10,000).
  const backend = options.backend ?? new MemoryBackend({ historyLimit: Infinity });
  const hub = new Hub({
    server: new Server(backend),
    backend,
    pubsub: backend.pubsub,
    createOnJoin: true,
    ...(options.maxDocumentsPerConnection === undefined ? {} : { maxDocumentsPerConnection: options.maxDocumentsPerConnection }),
  });
  // The bindings see the hub through this, so that tests can close connections with a code.
  const { hub: trackingHub, connections: tracked } = trackConnections(hub, {
    outgoing: (message) => {
      if (!instance.dropAcks) return message;
      if (Array.isArray(message)) return message.filter((m) => m.type !== "ack");
      return (message as ServerMessage).type === "ack" ? undefined : message;
    },
    onConnect: (entry) => {
      if (instance.closeOnConnect === undefined) return;
      const { code, reason } = instance.closeOnConnect;
      // After the binding has finished plugging the connection in.
      setImmediate(() => {
        if (entry.open) {
          entry.open = false;
          entry.connection.close(code, reason);
        }
      });
    },
  });

  const sockets = new Set<Socket>();
  let sse: SseHandler | undefined;
  const http: HttpServer = createServer((req, res) => {
    if (sse?.(req, res)) return;
    res.statusCode = 404;
    res.end();
  });
  http.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const auth = options.verifyToken === undefined ? {} : { verifyToken: options.verifyToken };
  sse = createSseHandler({ hub: trackingHub, keepAliveIntervalMs: 5_000, rateLimit: false, ...auth });
  const ws: WebSocketBinding = attachWebSocketServer({ hub: trackingHub, server: http, rateLimit: false, closeTimeoutMs: 1_000, ...auth });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;

  const closeHttp = async (): Promise<void> => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };

  const instance: ServerInstance = {
    port,
    backend,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    connections: tracked,
    closeOnConnect: undefined,
    dropAcks: false,
    closeAll(code, reason) {
      for (const entry of tracked) {
        if (!entry.open) continue;
        entry.open = false;
        entry.connection.close(code, reason);
      }
    },
    async stop() {
      await Promise.all([ws.close(), sse.close()]);
      await hub.close();
      await closeHttp();
    },
    async kill() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([ws.close(), sse.close()]);
      await hub.close();
      await closeHttp();
    },
  };
  return instance;
}
