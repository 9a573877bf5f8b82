import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";

const docId = "notes";
const key = `open-ot:${docId}`;
// sessionStorage: one identity per tab. Two tabs sharing one clientId would number their ops
// alike, and the server would drop one tab's ops as the other's duplicates.
const saved = JSON.parse(sessionStorage.getItem(key) ?? "null") as { clientId: string; lastSeq: number } | null;

const transport = new ReconnectingTransport(() => new WebSocketTransport(`${location.origin}/ws`));
const client = new OTClient({
  type: TextType,
  transport,
  docId,
  ...(saved === null ? {} : { clientId: saved.clientId, lastSeq: saved.lastSeq }),
});

// lastSeq grows when an op is sent: after a submit, and after an ack that lets the buffer go.
const save = (): void => sessionStorage.setItem(key, JSON.stringify({ clientId: client.clientId, lastSeq: client.lastSeq }));
client.on("ack", save);
export function edit(op: TextOp): void {
  client.submit(op);
  save();
}

await client.connect();
