// A collaborative CodeMirror editor on a page served with the WebSocket binding at /ws.
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { EditorView, keymap } from "@codemirror/view";
import { OTClient } from "@open-ot/client";
import { collabStatus, otCollab } from "@open-ot/codemirror";
import { TextType, type TextOp } from "@open-ot/core";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";

const docId = new URLSearchParams(location.search).get("doc") ?? "notes";
const transport = new ReconnectingTransport(() => new WebSocketTransport(`ws://${location.host}/ws`));
// `presence: true`: the client carries everyone's carets (mapped through every edit).
export const client = new OTClient<string, TextOp>({ type: TextType, transport, docId, presence: true });

const status = document.querySelector("#status") as HTMLElement;
export const label = `Guest ${Math.floor(Math.random() * 90 + 10)}`; // the name others see
export const view = new EditorView({
  parent: document.querySelector("#editor") as HTMLElement,
  extensions: [
    history(), // undo/redo your own edits only: remote ones are kept out of it
    keymap.of([...defaultKeymap, ...historyKeymap]),
    // Publish this caret as presence; draw everyone else's with their name and colour.
    otCollab(client, { presence: { label, color: "#268bd2" } }),
    // Show why the editor is read-only ("loading", "refused"...), if it is.
    EditorView.updateListener.of((update) => {
      status.textContent = collabStatus(update.state)?.readOnly ?? (client.synced ? "saved" : "saving…");
    }),
  ],
});

await client.connect();
