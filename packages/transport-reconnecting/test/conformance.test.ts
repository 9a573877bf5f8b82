// The transport conformance suite (packages/testing), run against the wrapper over both
// transports, through the real hub and bindings.
import { describeTransportConformance } from "@open-ot/testing";
import { freePort } from "@open-ot/harness";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { createClosePolicy, ReconnectingTransport } from "../src/index.js";
import { startServerInstance } from "./support/server-instance.js";

const CONNECT_TIMEOUT_MS = 2_000;

for (const wire of ["ws", "sse"] as const) {
  const inner = (base: string) =>
    wire === "ws"
      ? new WebSocketTransport(`${base.replace(/^http/, "ws")}/ws`, { connectTimeoutMs: CONNECT_TIMEOUT_MS })
      : new HttpSseTransport(base, { connectTimeout: CONNECT_TIMEOUT_MS });

  describeTransportConformance(
    `ReconnectingTransport over ${wire === "ws" ? "WebSocketTransport" : "HttpSseTransport"}`,
    async () => {
      const instance = await startServerInstance();
      // Nothing listens there (the port was bound, then released).
      const dead = `http://127.0.0.1:${await freePort()}`;
      return {
        // The suite's close-code case closes with 4001 once; the wrapper reports it through
        // onClose only when it stops, so this policy stops on the first 4001.
        createTransport: () =>
          new ReconnectingTransport(() => inner(instance.httpUrl), { closePolicy: createClosePolicy({ notFoundRetries: 0 }) }),
        // One attempt: the wrapper would otherwise (rightly) keep retrying a dead server.
        deadUrlTransport: () => new ReconnectingTransport(() => inner(dead), { maxAttempts: 1 }),
        closeAllServerSide: (code, reason) => instance.closeAll(code, reason),
        cleanup: () => instance.stop(),
      };
    },
    { connectTimeoutMs: CONNECT_TIMEOUT_MS },
  );
}
