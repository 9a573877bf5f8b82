import { OTClient } from "@open-ot/client";
import { diffText, TextType, transformCursor } from "@open-ot/core";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";

const textarea = document.querySelector("textarea")!;
const transport = new ReconnectingTransport(() => new WebSocketTransport(`${location.origin}/ws`));
const client = new OTClient({ type: TextType, transport, docId: "notes" });

let shown = ""; // what the textarea held after the last sync with the client
textarea.disabled = true;

client.on("snapshot", ({ snapshot }) => {
  // first join or resync: replace everything
  textarea.value = shown = snapshot;
  textarea.disabled = false;
});

client.on("remoteOp", ({ op }) => {
  // someone else's edit, already transformed
  const { selectionStart, selectionEnd } = textarea;
  textarea.value = shown = TextType.apply(shown, op);
  textarea.setSelectionRange(transformCursor(selectionStart, op), transformCursor(selectionEnd, op));
});

textarea.addEventListener("input", () => {
  // our edit: the textarea already shows it
  const op = diffText(shown, textarea.value);
  shown = textarea.value;
  client.submit(op);
});

client.on("connection", (state) => (document.body.dataset.connection = state));
client.on("synced", (synced) => (document.body.dataset.saved = String(synced)));
await client.connect();
