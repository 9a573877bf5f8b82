// Issue 16, "A bad token must stop a browser": a ReconnectingTransport stops on a refused token
// instead of retrying it forever, over both transports, when the server refuses in band (the
// only refusal a browser can read; see apps/demo/test/security for Chromium itself).
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { waitUntil } from "@open-ot/testing";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { createSseHandler, type SseHandler } from "@open-ot/transport-http-sse/server";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer, type WebSocketBinding } from "@open-ot/transport-websocket/server";
import { afterEach, describe, expect, it } from "vitest";
import { ReconnectingTransport } from "../../src/index.js";

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** Both bindings over a real hub, refusing every token in band; counts the checks. */
async function startRefusingServer(): Promise<{ port: number; checks: () => number }> {
  let checks = 0;
  const backend = new MemoryBackend();
  const hub = new Hub({ server: new Server(backend), createOnJoin: true });
  const options = {
    hub,
    refuseInBand: true,
    verifyToken: () => {
      checks++;
      return false;
    },
  };
  const sse: SseHandler = createSseHandler(options);
  const http: HttpServer = createServer((req, res) => {
    if (!sse(req, res)) res.writeHead(404).end();
  });
  const ws: WebSocketBinding = attachWebSocketServer({ ...options, server: http });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  stop = async () => {
    await Promise.all([ws.close(), sse.close()]);
    await hub.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  return { port: (http.address() as AddressInfo).port, checks: () => checks };
}

describe.each([
  ["WebSocket", (port: number) => new WebSocketTransport(`ws://127.0.0.1:${port}/ws`, { token: "stale" })],
  ["SSE", (port: number) => new HttpSseTransport(`http://127.0.0.1:${port}`, { token: "stale" })],
])("a refused token over %s", (_name, open) => {
  it("stops the ReconnectingTransport with 4003 after at most two attempts", async () => {
    const server = await startRefusingServer();
    const transport = new ReconnectingTransport(() => open(server.port), { backoff: { initialDelay: 10, maxDelay: 20 } });
    await transport.connect(() => undefined).catch(() => undefined);
    await waitUntil(() => transport.status.state === "closed", "the transport to stop", 5_000);
    expect(transport.status.lastCloseCode).toBe(4003);
    const stoppedAfter = server.checks();
    // Fifteen backoff steps later, nothing more was tried.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.checks()).toBe(stoppedAfter);
    expect(stoppedAfter).toBeLessThanOrEqual(2);
  });
});
