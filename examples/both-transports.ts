import http from "node:http";
import { OTClient } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { createSseHandler } from "@open-ot/transport-http-sse/server";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";

// One hub, both bindings on one HTTP server: WebSocket on /ws, SSE on /events and /messages.
const hub = new Hub({ server: new Server(new MemoryBackend()), createOnJoin: true });
const sse = createSseHandler({ hub });
const httpServer = http.createServer((req, res) => {
  if (!sse(req, res)) res.writeHead(404).end();
});
const ws = attachWebSocketServer({ hub, server: httpServer });
await new Promise<void>((resolve) => httpServer.listen(3000, "127.0.0.1", resolve));

// A client of each kind edits the same document; only the transport differs.
const overWebSocket = new OTClient({ type: TextType, transport: new WebSocketTransport("ws://127.0.0.1:3000/ws"), docId: "doc-1" });
const overSse = new OTClient({ type: TextType, transport: new HttpSseTransport("http://127.0.0.1:3000"), docId: "doc-1" });
await overWebSocket.connect();
await overSse.connect();
overWebSocket.submit([{ i: "ws " }]);
overSse.submit([{ i: "sse " }]);

// Wait until each has its own edit acknowledged and the other's applied.
const bothSeeBoth = (): boolean => [overWebSocket, overSse].every((c) => c.synced && c.revision === 2);
while (!bothSeeBoth()) await new Promise((resolve) => setTimeout(resolve, 10));
console.log(overWebSocket.snapshot === overSse.snapshot); // true

await overWebSocket.disconnect();
await overSse.disconnect();
await ws.close();
await sse.close();
await hub.close();
httpServer.close();
