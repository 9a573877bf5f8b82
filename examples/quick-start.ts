import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { WebSocketTransport } from "@open-ot/transport-websocket";

const client = new OTClient({
  type: TextType,
  transport: new WebSocketTransport("ws://localhost:3000/ws"), // `pnpm demo` serves this
  docId: "doc-1",
});

// Your editor's text. Replace it on a snapshot, apply the ops of others as they come.
let text = "";
client.on("snapshot", ({ snapshot }) => (text = snapshot));
client.on("remoteOp", ({ op }) => (text = TextType.apply(text, op)));

await client.connect(); // joins doc-1; the snapshot arrives before this resolves

// A local edit: apply it to your text, then hand it to the client. Positions count UTF-16 code
// units and must lie inside the current text, so append after what is there.
const edit: TextOp = [{ r: text.length }, { i: "hello" }];
text = TextType.apply(text, edit);
client.submit(edit);

// Wait until every local edit is committed on the server, then leave.
await new Promise<void>((resolve) => client.on("synced", (synced) => synced && resolve()));
console.log(`revision ${client.revision}: ${JSON.stringify(text)}`);
await client.disconnect();
