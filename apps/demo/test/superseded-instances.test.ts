// The superseded connection across instances: two hubs on their own RedisAdapters sharing one
// real redis-server, each behind a real WebSocket binding. When a client comes back on
// instance B while its old connection on instance A is still open (half-open), A closes the old
// one with 4009, told through Redis; two tabs sharing a clientId on two instances: the older
// stops, saying why, and does not come back.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { RedisAdapter } from "@open-ot/adapter-redis";
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { Hub, Server } from "@open-ot/server";
import { trackConnections, type TrackedConnection } from "@open-ot/testing";
import { startFaultProxy, startRedisServer, waitUntil, type FaultProxy, type RedisServer } from "@open-ot/harness";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const DOC = "superseded-across";

interface Instance {
  readonly port: number;
  readonly adapter: RedisAdapter;
  /** Every connection the hub was given, with the close it asked for. */
  readonly connections: TrackedConnection[];
  stop(): Promise<void>;
}

async function startInstance(redisUrl: string): Promise<Instance> {
  const adapter = new RedisAdapter(redisUrl);
  const hub = new Hub({ server: new Server(adapter), createOnJoin: true });
  const { hub: trackingHub, connections } = trackConnections(hub);
  const http: HttpServer = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const binding = attachWebSocketServer({ server: http, hub: trackingHub });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    port: (http.address() as AddressInfo).port,
    adapter,
    connections,
    async stop() {
      await binding.close();
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await adapter.close();
    },
  };
}

function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  return waitUntil(condition, what, ms, 10);
}

describe("the superseded connection across two instances sharing Redis", () => {
  let redis: RedisServer;
  let a: Instance;
  let b: Instance;
  let proxy: FaultProxy | undefined;
  const clients: OTClient<string, TextOp>[] = [];

  beforeEach(async () => {
    redis = await startRedisServer();
    [a, b] = await Promise.all([startInstance(redis.url), startInstance(redis.url)]);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await proxy?.close();
    proxy = undefined;
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  });

  /** An OTClient whose first connection goes to `first`, and every later one to `later`. */
  function editor(first: number, later: number, clientId?: string): { client: OTClient<string, TextOp>; transport: ReconnectingTransport } {
    let attempts = 0;
    const transport = new ReconnectingTransport(() => new WebSocketTransport(`ws://127.0.0.1:${attempts++ === 0 ? first : later}/ws`), {
      heartbeat: { interval: 200, timeout: 500 },
      backoff: { initialDelay: 20, maxDelay: 100 },
      browserEvents: false,
    });
    const client = new OTClient<string, TextOp>({ type: TextType, docId: DOC, transport, ...(clientId === undefined ? {} : { clientId }) });
    clients.push(client);
    return { client, transport };
  }

  async function type(client: OTClient<string, TextOp>, text: string): Promise<void> {
    client.submit([{ r: client.snapshot.length }, { i: text }]);
    await until(() => client.synced, `"${text}" acknowledged`);
  }

  it("a client back on instance B gets its half-open connection on instance A closed with 4009", async () => {
    proxy = await startFaultProxy({ target: { port: a.port } });
    const { client } = editor(proxy.port, b.port);
    await client.connect();
    await until(() => client.hasDocument, "the snapshot from A");
    await type(client, "on A");
    expect(a.connections).toHaveLength(1);

    // The path to A goes silent: A still sees the connection open; the client moves to B.
    proxy.stallAll();
    await until(() => b.connections.length === 1 && client.connectionState === "live", "the client live on B");
    await until(() => a.connections[0]!.closedByHub !== undefined, "A to close the old connection", 5_000);
    expect(a.connections[0]!.closedByHub).toEqual({ code: 4009, reason: expect.stringMatching(/newer connection/) as unknown });
    await type(client, ", then on B");
    await expect(b.adapter.getRecord(DOC)).resolves.toMatchObject({ data: "on A, then on B" });
    expect(b.connections[0]!.closedByHub).toBeUndefined();
  });

  it("two tabs sharing a clientId on two instances: the older one stops with 4009 and stays stopped", async () => {
    const older = editor(a.port, a.port, "shared-across-instances-1");
    await older.client.connect();
    await until(() => older.client.hasDocument, "the older tab's snapshot");
    const newer = editor(b.port, b.port, "shared-across-instances-1");
    await newer.client.connect();
    await until(() => older.transport.status.state === "closed", "the older tab to stop");
    expect(older.transport.status.lastCloseCode).toBe(4009);
    expect(older.transport.status.lastCloseReason).toMatch(/clientId/);
    await type(newer.client, "newer tab");
    expect(a.connections).toHaveLength(1);
    expect(older.transport.status.state).toBe("closed");
    await expect(a.adapter.getRecord(DOC)).resolves.toMatchObject({ data: "newer tab" });
  });
});
