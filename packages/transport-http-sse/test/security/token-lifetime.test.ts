// Issue 16, "Tokens that expire" and "Client address", across both bindings: one policy, shared
// by the WebSocket binding and the SSE handler, closes a stream whose token expired, revokes a
// principal's connections on both, and counts both against one address.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createConnectionPolicy, type ConnectionPolicy } from "@open-ot/server";
import { waitUntil } from "@open-ot/testing";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer, type WebSocketBinding } from "@open-ot/transport-websocket/server";
import { afterEach, describe, expect, it } from "vitest";
import { createSseHandler, type SseHandler } from "../../src/server.js";
import { openRawStream, type RawStream } from "../raw-stream.js";
import { StubHub } from "../stub-hub.js";

interface Both {
  readonly policy: ConnectionPolicy;
  readonly hub: StubHub;
  readonly sse: SseHandler;
  readonly ws: WebSocketBinding;
  readonly http: Server;
  readonly port: number;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startBoth(policy: ConnectionPolicy): Promise<Both> {
  const hub = new StubHub();
  const sse = createSseHandler({ hub, policy });
  const http = createServer((req, res) => {
    if (!sse(req, res)) res.writeHead(404).end();
  });
  const ws = attachWebSocketServer({ hub, server: http, policy });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await Promise.all([ws.close(), sse.close()]);
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
  return { policy, hub, sse, ws, http, port: (http.address() as AddressInfo).port };
}

async function stream(both: Both, token: string): Promise<RawStream> {
  const s = await openRawStream(`http://127.0.0.1:${both.port}/events?token=${token}`);
  cleanups.push(() => s.close());
  return s;
}

async function socket(both: Both, token: string): Promise<{ transport: WebSocketTransport; closed: Promise<number> }> {
  const transport = new WebSocketTransport(`ws://127.0.0.1:${both.port}/ws`, { token });
  const closed = new Promise<number>((resolve) => transport.onClose((event) => resolve(event.code)));
  await transport.connect(() => undefined);
  cleanups.push(() => transport.disconnect());
  return { transport, closed };
}

describe("one policy for both bindings", () => {
  it("ends an SSE stream with a close event (4003) when its token expires", async () => {
    const both = await startBoth(createConnectionPolicy({ verifyToken: () => ({ principal: "alice", expiresAt: Date.now() + 300 }) }));
    const s = await stream(both, "t");
    await s.sessionId();
    expect(both.hub.sessions[0]?.options).toMatchObject({ principal: "alice", remoteAddress: "127.0.0.1" });
    const close = await s.waitForEvent((e) => e.event === "close", 3_000);
    expect(JSON.parse(close.data)).toEqual({ code: 4003, reason: "token expired: connect again with a new token" });
    await waitUntil(() => both.sse.sessionCount === 0, "the session to end");
  });

  it("revokes a principal's WebSocket connections and SSE streams at once", async () => {
    const both = await startBoth(createConnectionPolicy({ verifyToken: (token) => ({ principal: token.split(".")[0]! }) }));
    const aliceStream = await stream(both, "alice.1");
    await aliceStream.sessionId();
    const aliceSocket = await socket(both, "alice.2");
    const bobSocket = await socket(both, "bob.1");
    expect(both.policy.revoke("alice")).toBe(2);
    expect(await aliceSocket.closed).toBe(4003);
    const close = await aliceStream.waitForEvent((e) => e.event === "close");
    expect(JSON.parse(close.data)).toMatchObject({ code: 4003 });
    await waitUntil(() => both.ws.connectionCount === 1, "the revoked connection to be gone");
    await bobSocket.transport.send({ type: "ping" });
    await waitUntil(() => both.hub.sessions.some((session) => session.received.length === 1), "bob's ping to arrive");
  });

  it("counts WebSocket connections and SSE streams of one address together", async () => {
    const both = await startBoth(createConnectionPolicy({ maxConnectionsPerAddress: 2 }));
    await socket(both, "a");
    await (await stream(both, "b")).sessionId();
    const third = await stream(both, "c");
    expect(third.status).toBe(429);
    await expect(socket(both, "d")).rejects.toMatchObject({ status: 429 });
  });
});
