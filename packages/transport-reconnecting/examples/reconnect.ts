import { TextType } from "@open-ot/core";
import { OTClient } from "@open-ot/client";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";

const transport = new ReconnectingTransport(
  // A token function is asked on every attempt: a reconnect after the token expired gets a fresh one.
  () => new WebSocketTransport("ws://127.0.0.1:3000/ws", { token: () => process.env.OT_TOKEN }),
  { backoff: { initialDelay: 500, maxDelay: 30_000 }, heartbeat: { interval: 25_000, timeout: 10_000 } },
);

transport.onStatus((s) => console.log(s.state, s.attempt, s.lastCloseCode ?? "", s.lastCloseReason ?? ""));
transport.onClose((e) => console.log("stopped for good:", e.code, e.error?.message ?? e.reason));

const client = new OTClient({ type: TextType, transport, docId: "doc-1" });
await client.connect(); // join runs in the handshake, on every reconnection too
client.submit([{ i: "hello " }]);

// Stop once the edit is committed; an editor would keep the client open instead.
await new Promise<void>((resolve) => client.on("synced", (synced) => synced && resolve()));
await client.disconnect();
