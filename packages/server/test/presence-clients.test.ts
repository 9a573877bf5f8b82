// Presence with the real clients over the real hub (in-process transports): documents of one
// OTConnection each have their own presence, and a presence-enabled client talking to a server
// that never offers presence (a v1 server) sends none.
import { OTClient, OTConnection } from "@open-ot/client";
import { TextType, type TextOp, type TransportAdapter, type TransportCloseEvent } from "@open-ot/core";
import { waitUntil } from "@open-ot/harness";
import { afterEach, describe, expect, it } from "vitest";
import { authorLabel } from "../src/author-label.js";
import { Hub } from "../src/hub.js";
import { InProcessPubSub } from "../src/in-process-pub-sub.js";
import { createInProcessTransport } from "../src/in-process-transport.js";
import { MemoryBackend } from "../src/memory-backend.js";
import { Server } from "../src/server.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function hub(): Promise<Hub> {
  const pubsub = new InProcessPubSub();
  const backend = new MemoryBackend({ pubsub });
  const created = new Hub({ server: new Server(backend), pubsub, createOnJoin: true, presence: { flushMs: 10 } });
  closers.push(() => created.close());
  return created;
}

/** A transport that records what the client sends and can hide the server's presence messages, as a v1 server would never send them. */
class Observed implements TransportAdapter {
  readonly sent: unknown[] = [];
  constructor(
    private readonly inner: TransportAdapter,
    private readonly hidePresence: boolean,
  ) {}
  connect(onReceive: (message: unknown) => void): Promise<void> {
    return this.inner.connect((message) => {
      if (this.hidePresence && (message as { type?: unknown }).type === "presence") return;
      onReceive(message);
    });
  }
  send(message: unknown): Promise<void> {
    this.sent.push(message);
    return this.inner.send(message);
  }
  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }
  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    return this.inner.onClose?.(listener) ?? (() => undefined);
  }
}

describe("presence with OTClient and OTConnection", () => {
  it("gives each document of one connection its own presence", async () => {
    const h = await hub();
    const connection = new OTConnection({ transport: createInProcessTransport(h), clientId: "conn" });
    closers.push(() => connection.close());
    const [notes, todo] = await Promise.all([
      connection.open("notes", { type: TextType, presence: true }),
      connection.open("todo", { type: TextType, presence: true }),
    ]);
    const watchers = await Promise.all(
      ["notes", "todo"].map(async (docId) => {
        const watcher = new OTClient<string, TextOp>({
          type: TextType,
          transport: createInProcessTransport(h),
          docId,
          clientId: `w-${docId}`,
          presence: true,
        });
        closers.push(() => watcher.disconnect());
        await watcher.connect();
        return watcher;
      }),
    );
    notes.submit([{ i: "hello" }]);
    notes.setPresence({ label: "in notes", ranges: [{ anchor: 5, head: 5 }] });
    todo.setPresence({ label: "in todo" });
    const [inNotes, inTodo] = watchers as [OTClient<string, TextOp>, OTClient<string, TextOp>];
    // Sent once the edit is acknowledged, with its ranges at that revision.
    await waitUntil(() => inNotes.presence.size === 1 && inTodo.presence.size === 1, "both documents' presence");
    expect(inNotes.presence.get(authorLabel("notes", "conn"))).toEqual({
      author: authorLabel("notes", "conn"),
      label: "in notes",
      ranges: [{ anchor: 5, head: 5 }],
    });
    expect(inTodo.presence.get(authorLabel("todo", "conn"))).toEqual({ author: authorLabel("todo", "conn"), label: "in todo" });
    // The watcher's own edit at the caret pushes it along; its view maps it at once (unacknowledged).
    inNotes.submit([{ i: ">> " }]);
    expect(inNotes.presence.get(authorLabel("notes", "conn"))?.ranges).toEqual([{ anchor: 8, head: 8 }]);
  });

  it("sends no presence to a server that never offered it (a v1 server), and reports no error", async () => {
    const h = await hub();
    const transport = new Observed(createInProcessTransport(h), true);
    const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: "doc", clientId: "new-client", presence: true });
    closers.push(() => client.disconnect());
    const errors: unknown[] = [];
    client.on("error", (error) => errors.push(error));
    await client.connect();
    client.setPresence({ label: "me", ranges: [{ anchor: 0, head: 0 }] });
    client.submit([{ i: "x" }]);
    await waitUntil(() => client.synced, "the ack");
    expect(transport.sent.filter((m) => (m as { type?: unknown }).type === "presence")).toEqual([]);
    expect(errors).toEqual([]);
  });
});
