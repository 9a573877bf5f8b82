import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createConnectionPolicy, Hub, MemoryBackend, Server } from "@open-ot/server";
import { createSseHandler } from "@open-ot/transport-http-sse/server";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import { createTextDocuments, type ServerUnderTest } from "./server-under-test.js";

/** Documents the defended server creates on join at most, as the demo does. */
const MAX_CREATED_DOCUMENTS = 10_000;

/**
 * The server the attack scenario aims at: `Server` + `Hub` + both bindings with every limit at
 * its default, one connection policy shared by the bindings, and documents created on join
 * (capped), as the demo and the root README's production checklist assemble it. Unlike the
 * load scenarios' server, nothing is turned off.
 */
export async function startDefendedServer(): Promise<ServerUnderTest & { socketCount(): Promise<number> }> {
  const backend = new MemoryBackend();
  const server = new Server(backend);
  const hub = new Hub({ server, createOnJoin: true, maxCreatedDocuments: MAX_CREATED_DOCUMENTS });
  const policy = createConnectionPolicy();
  const http = createServer();
  const sse = createSseHandler({ hub, policy });
  http.on("request", (req, res) => {
    if (!sse(req, res)) res.writeHead(404).end();
  });
  const ws = attachWebSocketServer({ hub, server: http, policy });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (http.address() as AddressInfo).port,
    createDocuments: (ids, text) => createTextDocuments(backend, ids, text),
    documentText: async (docId) => (await backend.getRecord(docId)).data as string,
    connectionCount: () => ws.connectionCount + sse.sessionCount,
    socketCount: () => new Promise((resolve, reject) => http.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    extraStats: () => ({ documents: hub.documentCount, sessions: hub.sessionCount }),
    resetExtraStats: () => undefined,
    close: async () => {
      await Promise.all([ws.close(), sse.close()]);
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
