// A shared to-do list: a server with the JSON type and two clients editing at once.
// Run after `pnpm build`: node examples/shared-list.mjs (test/example.test.ts runs it too).
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { OTClient } from "@open-ot/client";
import { insertOp, JsonType, replaceOp } from "@open-ot/json";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";

export async function sharedList(log = console.log) {
  // Server: register the type with the backend and the server, then create a document.
  const backend = new MemoryBackend({ types: [JsonType] });
  const server = new Server(backend, { types: [JsonType] });
  const hub = new Hub({ server, docType: JsonType.name });
  const http = createServer();
  const binding = attachWebSocketServer({ server: http, hub });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `ws://127.0.0.1:${http.address().port}/ws`;
  await server.createDocument("groceries", JsonType.name, { items: [{ text: "milk", done: false }] });

  // Two clients join and edit the same revision at once.
  const open = () => new OTClient({ type: JsonType, docId: "groceries", transport: new WebSocketTransport(url) });
  const alice = open();
  const bob = open();
  await Promise.all([alice.connect(), bob.connect()]);
  alice.submit(insertOp(["items", 1], { text: "eggs", done: false }));
  bob.submit(replaceOp(["items", 0, "done"], false, true));

  // Both converge on one document once every edit is acknowledged and seen.
  const settled = () => alice.synced && bob.synced && alice.revision === 2 && bob.revision === 2;
  while (!settled()) await new Promise((resolve) => setTimeout(resolve, 5));
  log(JSON.stringify(alice.snapshot));
  log(JSON.stringify(bob.snapshot), `(${JsonType.size(bob.snapshot)} characters of JSON)`);

  await Promise.all([alice.disconnect(), bob.disconnect()]);
  await binding.close();
  await new Promise((resolve) => http.close(resolve));
  await hub.close();
  return alice.snapshot;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await sharedList();
