// End to end over the real Hub: legacy root-path clients, and OTClients on WebSocketTransport.
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocketTransport } from "../src/index.js";
import { startHubServer, type HubServer } from "./hub-server.js";
import { openRawWsClient, type RawWsClient } from "./raw-ws-client.js";
import { waitUntil } from "@open-ot/harness";

describe("WebSocket binding over the real Hub", () => {
  let server: HubServer;
  const raw: RawWsClient[] = [];
  const clients: OTClient<string, TextOp>[] = [];

  beforeEach(async () => {
    server = await startHubServer();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    for (const c of raw.splice(0)) c.ws.terminate();
    await server.close();
  });

  async function legacy(path: string): Promise<RawWsClient> {
    const client = await openRawWsClient(server.url(path));
    raw.push(client);
    return client;
  }

  it("root path: legacy clients send ops straight away and get ack and op with docId and revision", async () => {
    const a = await legacy("/?docId=legacy-doc");
    const b = await legacy("/?docId=legacy-doc");
    // Nothing arrives before the first op: no snapshot, no joined.
    a.ws.send(JSON.stringify({ type: "op", op: [{ i: "hi" }], revision: 0 }));
    await waitUntil(() => a.answers.length === 1 && b.answers.length === 1, "ack and op");
    expect(a.answers).toEqual([{ type: "ack", docId: "legacy-doc", revision: 1 }]);
    expect(b.answers).toEqual([{ type: "op", docId: "legacy-doc", op: [{ i: "hi" }], revision: 1 }]);

    // B's concurrent op (based on revision 0) is transformed: ties go to the op committed first.
    b.ws.send(JSON.stringify({ type: "op", op: [{ i: "yo" }], revision: 0 }));
    await waitUntil(() => a.answers.length === 2 && b.answers.length === 2, "second ack and op");
    expect(b.answers[1]).toEqual({ type: "ack", docId: "legacy-doc", revision: 2 });
    expect(a.answers[1]).toMatchObject({ type: "op", docId: "legacy-doc", revision: 2 });
    const transformed = a.answers[1]!.op as TextOp;
    expect(TextType.apply("hi", transformed)).toBe("hiyo");
    expect(await server.backend.getRecord("legacy-doc")).toEqual({ type: "text", v: 2, data: "hiyo" });
  });

  it("root path without docId joins the hub's default document", async () => {
    const a = await legacy("/");
    a.ws.send(JSON.stringify({ type: "op", op: [{ i: "x" }], revision: 0 }));
    await waitUntil(() => a.answers.length === 1, "ack");
    expect(a.answers[0]).toEqual({ type: "ack", docId: server.hub.defaultDocId, revision: 1 });
  });

  it("?batch=1: batched frames are unwrapped by the transport, in order", async () => {
    const writer = await legacy("/?docId=batched");
    const transport = new WebSocketTransport<{ type: string; revision?: number; docId?: string }>(server.url("/ws?batch=1"));
    const received: { type: string; revision?: number; docId?: string }[] = [];
    await transport.connect((m) => received.push(m));
    try {
      for (let i = 0; i < 20; i++) writer.ws.send(JSON.stringify({ type: "op", op: [{ i: "." }], revision: i }));
      await waitUntil(() => writer.answers.length === 20, "20 acks");
      await transport.send({ type: "join", docId: "batched", revision: 0 });
      await waitUntil(() => received.filter((m) => m.type === "op").length === 20, "the replay");
      expect(received[0]).toEqual({ type: "joined", docId: "batched", revision: 0, epoch: expect.any(String) });
      expect(received.filter((m) => m.type === "op").map((m) => m.revision)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      await transport.disconnect();
    }
  });

  it("two OTClients on WebSocketTransport converge after concurrent edits", async () => {
    const make = (batch: boolean) => {
      const client = new OTClient<string, TextOp>({
        type: TextType,
        docId: "shared",
        transport: new WebSocketTransport(server.url(batch ? "/ws?batch=1" : "/ws")),
        batch,
      });
      clients.push(client);
      return client;
    };
    const alice = make(false);
    const bob = make(true);
    await Promise.all([alice.connect(), bob.connect()]);
    await waitUntil(() => alice.hasDocument && bob.hasDocument, "both snapshots");
    for (let i = 0; i < 10; i++) {
      alice.submit([{ r: alice.snapshot.length }, { i: `a${i}` }] as TextOp);
      bob.submit([{ i: `b${i}` }] as TextOp);
    }
    // Each client composes what it types while an op is in flight, so fewer than 20 revisions
    // may result; all 40 characters must arrive everywhere.
    const settled = () => alice.synced && bob.synced && alice.revision === bob.revision && alice.snapshot.length === 40;
    await waitUntil(settled, "both clients in sync with all 40 characters", 10_000);
    expect(alice.snapshot).toBe(bob.snapshot);
    expect(await server.backend.getRecord("shared")).toMatchObject({ v: alice.revision, data: alice.snapshot });
    for (let i = 0; i < 10; i++) {
      expect(alice.snapshot).toContain(`a${i}`);
      expect(alice.snapshot).toContain(`b${i}`);
    }
  });
});
