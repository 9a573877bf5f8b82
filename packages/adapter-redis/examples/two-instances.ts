import { documentChannel, Server, type CommitNotice } from "@open-ot/server";
import { RedisAdapter } from "@open-ot/adapter-redis";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const adapterA = new RedisAdapter(url); // instance A
const adapterB = new RedisAdapter(url); // instance B
const serverA = new Server(adapterA);
const serverB = new Server(adapterB);

const docId = `example-${Date.now()}`;
await serverA.createDocument(docId, "text", "");

// Instance B hears every commit on the document, A's included.
const heard: CommitNotice[] = [];
const unsubscribe = await adapterB.subscribe(documentChannel(docId), (notice) => heard.push(notice));

// Both edit revision 0. B's insert is transformed over A's (the first committed comes first).
await serverA.submitOperation(docId, [{ i: "Hello, " }], 0);
const fromB = await serverB.submitOperation(docId, [{ i: "world" }], 0);
console.log(fromB); // { op: [ { r: 7 }, { i: 'world' } ], revision: 2 }
console.log((await serverA.getDocument(docId)).snapshot); // "Hello, world"

// Pub/sub is asynchronous: give B a moment (at most 5 s) to hear both commits.
for (const deadline = Date.now() + 5000; heard.length < 2 && Date.now() < deadline;) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
console.log(heard.map((notice) => notice.revision)); // [ 1, 2 ]

await unsubscribe();
await adapterA.close();
await adapterB.close();
