// Issue 16, "Client address": every connection has the client's address (forwarding headers
// read only from trusted proxies), and per-address limits bound connections, connections whose
// token is being checked, and their bytes.
import { rawHttpExchange, upgradeRequest, waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { startBindingServer, type BindingServer } from "../binding-server.js";
import { rawUpgrade, type RawUpgradeResult } from "../raw-client.js";
import { createStubHub, type StubHub } from "../stub-hub.js";
import type { WebSocketServerOptions } from "../../src/server.js";

let server: BindingServer | undefined;
let hub: StubHub;
const sockets: RawUpgradeResult[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.socket.destroy();
  await server?.close();
  server = undefined;
});

async function start(options: Omit<WebSocketServerOptions, "hub" | "server"> = {}): Promise<BindingServer> {
  hub = createStubHub();
  server = await startBindingServer({ ...options, hub });
  return server;
}

async function open(s: BindingServer, headers: Record<string, string> = {}): Promise<RawUpgradeResult> {
  const result = await rawUpgrade(s.port, "/ws", headers);
  sockets.push(result);
  return result;
}

describe("client address", () => {
  it("is the socket's peer, whatever X-Forwarded-For says, unless the proxy is trusted", async () => {
    const s = await start();
    await open(s, { "X-Forwarded-For": "198.51.100.7" });
    await waitUntil(() => hub.connections.length === 1, "the connection");
    expect(hub.connections[0]!.options?.remoteAddress).toBe("127.0.0.1");
  });

  it("comes from Forwarded / X-Forwarded-For when the peer is a trusted proxy", async () => {
    const s = await start({ trustProxy: ["loopback"] });
    await open(s, { "X-Forwarded-For": "203.0.113.5, 198.51.100.7" });
    await open(s, { Forwarded: 'for="[2001:db8::1]:4711"' });
    await waitUntil(() => hub.connections.length === 2, "the connections");
    expect(hub.connections.map((c) => c.options?.remoteAddress)).toEqual(["198.51.100.7", "2001:db8::1"]);
  });
});

describe("per-address limits", () => {
  it("refuses connections past maxConnectionsPerAddress with 429, per client address", async () => {
    const s = await start({ trustProxy: 1, maxConnectionsPerAddress: 2 });
    const from = (address: string) => ({ "X-Forwarded-For": address });
    const first = await open(s, from("198.51.100.7"));
    expect((await open(s, from("198.51.100.7"))).status).toBe(101);
    const third = await open(s, from("198.51.100.7"));
    expect(third.status).toBe(429);
    expect(third.response).toMatch(/Retry-After: \d+/);
    expect((await open(s, from("198.51.100.8"))).status).toBe(101);
    first.socket.destroy();
    await waitUntil(() => s.binding.connectionCount === 2, "the first connection to end");
    expect((await open(s, from("198.51.100.7"))).status).toBe(101);
  });

  it("bounds connections whose token is still being checked, per address, and answers the rest at once", async () => {
    const checks: Array<(ok: boolean) => void> = [];
    const refused: Array<Record<string, unknown> | undefined> = [];
    const s = await start({
      verifyToken: () => new Promise<boolean>((resolve) => checks.push(resolve)),
      maxPendingPerAddress: 2,
      logger: { debug: (message, context) => message === "Connection refused" && refused.push(context) },
    });
    const waiting = [rawUpgrade(s.port, "/ws?token=a"), rawUpgrade(s.port, "/ws?token=b")];
    await waitUntil(() => checks.length === 2, "two token checks under way");
    const third = await rawHttpExchange(s.port, upgradeRequest("/ws?token=c", s.port));
    expect(third.status).toBe(429);
    expect(refused[0]).toMatchObject({ remoteAddress: "127.0.0.1", status: 429 });
    for (const check of checks) check(true);
    for (const result of await Promise.all(waiting)) {
      sockets.push(result);
      expect(result.status).toBe(101);
    }
  });

  it("bounds the head bytes of connections whose token is being checked", async () => {
    const s = await start({
      verifyToken: () => new Promise<boolean>(() => undefined),
      maxPendingBytesPerAddress: 8 * 1024,
      authTimeoutMs: 1_000,
    });
    const big = { "X-Padding": "p".repeat(6 * 1024) };
    void rawHttpExchange(s.port, upgradeRequest("/ws?token=a", s.port, big), 1_000);
    await new Promise((resolve) => setImmediate(resolve));
    await waitUntil(
      async () => (await rawHttpExchange(s.port, upgradeRequest("/ws?token=b", s.port, big))).status === 429,
      "the second to be refused",
    );
  });

  it("answers a token check that never settles with 503 after authTimeoutMs", async () => {
    const s = await start({ verifyToken: () => new Promise<boolean>(() => undefined), authTimeoutMs: 200 });
    const answer = await rawHttpExchange(s.port, upgradeRequest("/ws?token=a", s.port), 3_000);
    expect(answer).toMatchObject({ status: 503, closed: true });
  });
});
