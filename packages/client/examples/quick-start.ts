import { OTClient } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";

const transport = new ReconnectingTransport(() => new WebSocketTransport("ws://localhost:3000/ws"));
const client = new OTClient({ type: TextType, transport, docId: "readme-example" });

client.on("snapshot", ({ snapshot, revision }) => console.log(`r${revision}: ${JSON.stringify(snapshot)}`));
client.on("remoteOp", ({ revision }) => console.log(`r${revision}: ${JSON.stringify(client.snapshot)}`));
client.on("error", (error) => console.error(error.code, error.message));

await client.connect(); // join, get the document
client.submit([{ r: client.snapshot.length }, { i: "Hello from Node! " }]);
await new Promise<void>((resolve) => client.on("synced", (synced) => synced && resolve())); // committed
console.log(`committed at r${client.revision}: ${JSON.stringify(client.snapshot)}`);
await client.disconnect();
await transport.disconnect();
