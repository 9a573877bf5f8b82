import { OTConnection } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";

// One event stream for every document: its joins and ops go by POST.
const transport = new ReconnectingTransport(() => new HttpSseTransport("http://localhost:3000"));
const connection = new OTConnection({ transport });

const ids = ["readme-notes", "readme-todo", "readme-comments"];
const documents = await Promise.all(ids.map((docId) => connection.open(docId, { type: TextType })));
console.log(connection.documentIds.length); // 3

for (const doc of documents) {
  doc.on("remoteOp", () => console.log(`${doc.docId}: ${JSON.stringify(doc.snapshot)}`));
  doc.submit([{ r: doc.snapshot.length }, { i: `Hello, ${doc.docId}! ` }]);
}
// Every document's edit is committed; one clientId, one seq sequence across them.
await Promise.all(documents.map((doc) => new Promise<void>((resolve) => doc.on("synced", (synced) => synced && resolve()))));
console.log(connection.lastSeq); // 3

await documents[2]!.disconnect(); // sends leave: the others carry on
console.log(connection.documentIds.length); // 2
await connection.close(); // every document, then the transport
