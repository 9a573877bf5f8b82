// WebSocketTransport + attachWebSocketServer + the real Hub, through the shared transport
// conformance suite of @open-ot/testing.
import { describeTransportConformance } from "@open-ot/testing";
import { WebSocketTransport } from "../src/index.js";
import { deadPort } from "./echo-server.js";
import { startHubServer } from "./hub-server.js";

const DEAD_PORT_TIMEOUT_MS = 2_000;

describeTransportConformance(
  "WebSocketTransport",
  async () => {
    // The suite sends 1,000 messages at once; the default limit (bursts of 200) would refuse them.
    const server = await startHubServer({ rateLimit: { messagesPerSecond: 10_000, burst: 5_000 } });
    const dead = await deadPort();
    return {
      createTransport: () => new WebSocketTransport(server.url()),
      deadUrlTransport: () => new WebSocketTransport(`ws://127.0.0.1:${dead}/ws`, { connectTimeoutMs: DEAD_PORT_TIMEOUT_MS }),
      closeAllServerSide: (code, reason) => server.closeAllServerSide(code, reason),
      cleanup: () => server.close(),
    };
  },
  { connectTimeoutMs: DEAD_PORT_TIMEOUT_MS },
);
