import { OTClient } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
// import { WebSocketTransport } from "@open-ot/transport-websocket";

// const transport = new WebSocketTransport("ws://localhost:3000/ws");
const transport = new HttpSseTransport("http://localhost:3000");

const client = new OTClient({ type: TextType, transport, docId: "doc-1" });
await client.connect();
client.submit([{ i: "hello " }]);
await new Promise<void>((resolve) => client.on("synced", (synced) => synced && resolve())); // committed
console.log(`committed at r${client.revision}`);
await client.disconnect(); // closes the stream: the script can end
