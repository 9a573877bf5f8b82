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
import { pick, randomTextEdit, seededRandom, waitUntil } from "@open-ot/harness";
import { HttpSseTransport } from "../src/index.js";
import { createSseHandler } from "../src/server.js";

type TextOp = Parameters<typeof TextType.apply>[1];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A random insert or delete on code-point boundaries (an op may not split a surrogate pair). */
function randomEdit(text: string, random: () => number, who: string): TextOp {
  return randomTextEdit(random, text, { deleteChance: 0.35, insert: (r) => pick(r, [who, "é", "😀", "漢", "\n"]) });
}

it("WebSocket and SSE clients editing one document through one server converge to the server's text", async () => {
  const seed = 20240611;
  const random = seededRandom(seed);
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

  const transports: Array<[string, TransportAdapter]> = [
    ["ws-a", new WebSocketTransport(`ws://127.0.0.1:${port}/ws`)],
    ["ws-b", new WebSocketTransport(`ws://127.0.0.1:${port}/ws`)],
    ["ws-c", new WebSocketTransport(`ws://127.0.0.1:${port}/ws`)],
    ["sse-a", new HttpSseTransport(`http://127.0.0.1:${port}`)],
    ["sse-b", new HttpSseTransport(`http://127.0.0.1:${port}`)],
    ["sse-c", new HttpSseTransport(`http://127.0.0.1:${port}`, { batch: true })],
  ];
  const clients = transports.map(([name, transport]) => ({
    name,
    client: new OTClient<string, TextOp>({ type: TextType, transport, docId: "shared" }),
  }));
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
  await waitUntil(() => clients.every(({ client }) => client.synced), `every client synced (seed ${seed})`, 20_000);
  const final = await record();
  await waitUntil(
    () => clients.every(({ client }) => client.revision === final.v),
    `every client at revision ${final.v} (seed ${seed})`,
    20_000,
  );
  expect(final.v).toBeGreaterThanOrEqual(clients.length);
  for (const { name, client } of clients) {
    expect({ name, text: client.snapshot }).toEqual({ name, text: final.data });
  }
});
