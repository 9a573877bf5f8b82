// One server instance for the real-network tests: an http.Server on 127.0.0.1 with the
// WebSocket binding and the SSE handler over one Hub. The backend is passed in, so a test can
// kill an instance and start a new one (new http server, bindings and hub) on the same port over
// the same in-memory documents, as a restarted process over a database would be.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Hub, MemoryBackend, Server, type ConnectOptions, type HubConnection, type HubSession } from "@open-ot/server";
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
  /** Shut down the bindings gracefully (1001 to everyone), then the hub and the http server. */
  stop(): Promise<void>;
  /** Die: every socket destroyed at once (clients see 1006 or a broken stream, no close frame). */
  kill(): Promise<void>;
}

export interface TrackedConnection {
  readonly connection: HubConnection;
  open: boolean;
  /** The close the hub asked for (the superseding of a connection, say), if any. */
  closedByHub?: { code: number; reason: string };
}

export interface InstanceOptions {
  /** Documents and their history; keep the same object across a restart. @default a new MemoryBackend */
  backend?: MemoryBackend;
  /** @default 0 */
  port?: number;
  /** Token check of both bindings. @default undefined (no authentication) */
  verifyToken?: (token: string) => boolean | Promise<boolean>;
}

export async function startServerInstance(options: InstanceOptions = {}): Promise<ServerInstance> {
  // Every op is kept: the tests audit the whole history for exactly-once (the default keeps 10,000).
  const backend = options.backend ?? new MemoryBackend({ historyLimit: Infinity });
  const hub = new Hub({ server: new Server(backend), backend, pubsub: backend.pubsub, createOnJoin: true });
  const tracked: TrackedConnection[] = [];
  // The bindings see the hub through this, so that tests can close connections with a code.
  const trackingHub = {
    connect(connection: HubConnection, connectOptions?: ConnectOptions): HubSession {
      const entry: TrackedConnection = { connection, open: true };
      tracked.push(entry);
      const recording: HubConnection = {
        send: (message) => connection.send(message),
        close: (code, reason) => {
          entry.open = false;
          entry.closedByHub = { code, reason };
          connection.close(code, reason);
        },
      };
      const session = hub.connect(recording, connectOptions);
      if (instance.closeOnConnect) {
        const { code, reason } = instance.closeOnConnect;
        // After the binding has finished plugging the connection in.
        setImmediate(() => {
          if (entry.open) {
            entry.open = false;
            connection.close(code, reason);
          }
        });
      }
      return {
        id: session.id,
        receive: (frame: unknown) => session.receive(frame),
        close: () => {
          entry.open = false;
          session.close();
        },
        idle: () => session.idle(),
      };
    },
  };

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
