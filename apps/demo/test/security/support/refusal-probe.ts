// Bundled for Chromium by browser-refusal.test.ts: the product's ReconnectingTransport over the
// browser's own WebSocket or EventSource, with a token the server refuses.
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { ReconnectingTransport, type ReconnectingStatus } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";

declare global {
  interface Window {
    /** Start connecting; `probeStatus()` then tells where the wrapper is. */
    startProbe(kind: "ws" | "sse"): void;
    probeStatus(): ReconnectingStatus | undefined;
  }
}

let transport: ReconnectingTransport | undefined;

window.startProbe = (kind) => {
  const origin = window.location.origin;
  transport = new ReconnectingTransport(
    () =>
      kind === "ws"
        ? new WebSocketTransport(`${origin.replace(/^http/, "ws")}/ws`, { token: "stale-token" })
        : new HttpSseTransport(origin, { token: "stale-token" }),
    // Quick retries, so that a client that does not stop shows it within the test's window.
    { backoff: { initialDelay: 20, maxDelay: 50 } },
  );
  transport.connect(() => undefined).catch(() => undefined);
};

window.probeStatus = () => transport?.status;
