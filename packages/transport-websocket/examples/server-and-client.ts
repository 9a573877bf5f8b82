import http from "node:http";
import { OTClient } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";

// Server: a hub over an in-memory backend, served on ws://127.0.0.1:3000/ws
const backend = new MemoryBackend();
const hub = new Hub({ server: new Server(backend), createOnJoin: true });
const httpServer = http.createServer();
const binding = attachWebSocketServer({ hub, server: httpServer });
await new Promise<void>((resolve) => httpServer.listen(3000, "127.0.0.1", resolve));

// Client: an OT client editing doc-1 over a WebSocket
const transport = new WebSocketTransport("ws://127.0.0.1:3000/ws");
const client = new OTClient({ type: TextType, transport, docId: "doc-1" });
await client.connect();
client.submit([{ i: "hello" }]);
await new Promise<void>((resolve) => client.on("synced", (synced) => synced && resolve()));
console.log((await backend.getRecord("doc-1")).data); // "hello"

await client.disconnect();
await binding.close();
await hub.close();
httpServer.close();
