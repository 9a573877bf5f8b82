import { Hub, MemoryBackend, Server } from "@open-ot/server";
import type { HubConnection } from "@open-ot/server";
import { describeTransportConformance } from "@open-ot/testing";
import { HttpSseTransport } from "../src/index.js";
import { deadPort, startSseServer } from "./helpers.js";

describeTransportConformance(
  "HttpSseTransport",
  async () => {
    const hub = new Hub({ server: new Server(new MemoryBackend()) });
    // The real hub, wrapped only to keep each connection so the suite can close them all from
    // the server side with a code of its choice.
    const connections: HubConnection[] = [];
    const srv = await startSseServer({
      hub: {
        connect(connection, options) {
          connections.push(connection);
          return hub.connect(connection, options);
        },
      },
      rateLimit: false,
    });
    const dead = await deadPort();
    return {
      createTransport: () => new HttpSseTransport(srv.baseUrl),
      deadUrlTransport: () => new HttpSseTransport(`http://127.0.0.1:${dead}`, { connectTimeout: 2_000 }),
      closeAllServerSide: (code, reason) => {
        for (const connection of connections.splice(0)) connection.close(code, reason);
      },
      cleanup: async () => {
        await srv.close();
        await hub.close();
      },
    };
  },
  { connectTimeoutMs: 2_000 },
);
