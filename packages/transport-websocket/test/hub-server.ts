// The binding over the real Hub (in-memory backend), for conformance, bad-input and
// end-to-end tests. The hub is wrapped only to remember each connection, so that a test can
// close them all from the server side.
import { Hub, MemoryBackend, Server, type HubConnection } from "@open-ot/server";
import type { HubLike } from "../src/hub-like.js";
import type { WebSocketServerOptions } from "../src/server.js";
import { startBindingServer, type BindingServer } from "./binding-server.js";

export interface HubServer extends BindingServer {
  readonly backend: MemoryBackend;
  readonly hub: Hub;
  /** Close every connection the hub was given, from the server side. */
  closeAllServerSide(code: number, reason: string): void;
}

export async function startHubServer(options: Omit<WebSocketServerOptions, "server" | "hub"> = {}): Promise<HubServer> {
  const backend = new MemoryBackend();
  const hub = new Hub({ server: new Server(backend), createOnJoin: true });
  const connections: HubConnection[] = [];
  const tracking: HubLike = {
    defaultDocId: hub.defaultDocId,
    connect(connection, connectOptions) {
      connections.push(connection);
      return hub.connect(connection, connectOptions);
    },
  };
  const bound = await startBindingServer({ ...options, hub: tracking });
  return {
    ...bound,
    backend,
    hub,
    closeAllServerSide(code, reason) {
      for (const connection of connections) connection.close(code, reason);
    },
    async close() {
      await bound.close();
      await hub.close();
      await backend.close();
    },
  };
}
