// One node:http server on one port with both bindings (WebSocket and SSE) in front of one hub;
// OTClients on each transport edit one document concurrently and must all converge to the
// server's text.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { OTClient } from "@open-ot/client";
import { TextType, type TransportAdapter } from "@open-ot/core";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import { HttpSseTransport } from "../src/index.js";
import { createSseHandler } from "../src/server.js";
import { waitFor } from "./helpers.js";

type TextOp = Parameters<typeof TextType.apply>[1];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Mulberry32: a small seeded RNG, so that a failing run can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random insert or delete on code-point boundaries (an op may not split a surrogate pair). */
function randomEdit(text: string, random: () => number, who: string): TextOp {
  const points = Array.from(text);
  const index = Math.floor(random() * (points.length + 1));
  const at = points.slice(0, index).join("").length;
  if (index < points.length && random() < 0.35) {
    const count = Math.min(points.length - index, 1 + Math.floor(random() * 3));
    return [{ r: at }, { d: points.slice(index, index + count).join("").length }];
  }
  const samples = [who, "é", "😀", "漢", "\n"];
  return [{ r: at }, { i: samples[Math.floor(random() * samples.length)]! }];
}

it("WebSocket and SSE clients editing one document through one server converge to the server's text", async () => {
  const seed = 20240611;
  const random = rng(seed);
  const backend = new MemoryBackend();
  const ot = new Server(backend);
  await ot.createDocument("shared", "text", "start");
  const hub = new Hub({ server: ot });
  const sse = createSseHandler({ hub });
  const httpServer = createServer((req, res) => {
    if (!sse(req, res)) res.writeHead(404).end();
  });
  const ws = attachWebSocketServer({ hub, server: httpServer });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await sse.close();
    await ws.close();
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    await hub.close();
  });
  const { port } = httpServer.address() as AddressInfo;

  const transports: Array<[string, TransportAdapter<unknown>]> = [
    ["ws-a", new WebSocketTransport(`ws://127.0.0.1:${port}/ws`)],
    ["ws-b", new WebSocketTransport(`ws://127.0.0.1:${port}/ws`)],
    ["ws-c", new WebSocketTransport(`ws://127.0.0.1:${port}/ws`)],
    ["sse-a", new HttpSseTransport(`http://127.0.0.1:${port}`)],
    ["sse-b", new HttpSseTransport(`http://127.0.0.1:${port}`)],
    ["sse-c", new HttpSseTransport(`http://127.0.0.1:${port}`, { batch: true })],
  ];
  const clients = transports.map(([name, transport]) => ({ name, client: new OTClient<string, TextOp>({ type: TextType, transport, docId: "shared" }) }));
  cleanups.push(() => Promise.all(clients.map(({ client }) => client.disconnect())).then(() => undefined));
  await Promise.all(clients.map(({ client }) => client.connect()));
  expect(sse.sessionCount).toBe(3);
  expect(ws.connectionCount).toBe(3);

  // Rounds of concurrent edits: every client edits its own view, then the event loop turns once
  // (a yield, not a wait for anything), so edits cross each other on the wire.
  const rounds = 40;
  for (let round = 0; round < rounds; round++) {
    for (const { name, client } of clients) {
      if (random() < 0.8) client.submit(randomEdit(client.snapshot, random, name.slice(0, 1)));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  const record = async () => backend.getRecord("shared");
  await waitFor(() => clients.every(({ client }) => client.synced), 20_000, `every client synced (seed ${seed})`);
  const final = await record();
  await waitFor(() => clients.every(({ client }) => client.revision === final.v), 20_000, `every client at revision ${final.v} (seed ${seed})`);
  expect(final.v).toBeGreaterThanOrEqual(clients.length);
  for (const { name, client } of clients) {
    expect({ name, text: client.snapshot }).toEqual({ name, text: final.data });
  }
});
