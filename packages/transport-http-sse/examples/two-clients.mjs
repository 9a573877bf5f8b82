import http from "node:http";
import { TextType } from "@open-ot/core";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { OTClient } from "@open-ot/client";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { createSseHandler } from "@open-ot/transport-http-sse/server";

const backend = new MemoryBackend();
const server = new Server(backend);
server.registerType(TextType);
const hub = new Hub({ server, backend, pubsub: backend.pubsub, createOnJoin: true });

const sse = createSseHandler({ hub });
const httpServer = http.createServer((req, res) => {
  if (!sse(req, res)) res.writeHead(404).end();
});
await new Promise((resolve) => httpServer.listen(3000, "127.0.0.1", resolve));

const alice = new OTClient({ type: TextType, transport: new HttpSseTransport("http://127.0.0.1:3000"), docId: "doc-1" });
const bob = new OTClient({ type: TextType, transport: new HttpSseTransport("http://127.0.0.1:3000"), docId: "doc-1" });
await alice.connect();
await bob.connect();
alice.submit([{ i: "Hello" }]);
bob.submit([{ i: "World" }]);

// Wait until both have seen both edits.
while (alice.revision < 2 || bob.revision < 2 || !alice.synced || !bob.synced) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
// Both hold the same text: "HelloWorld" or "WorldHello", whichever commit came first.
console.log(alice.snapshot, "|", bob.snapshot);

await alice.disconnect();
await bob.disconnect();
await sse.close();
httpServer.close();
