// OTConnection over scripted transports: routing by docId, one seq sequence, one handshake that
// rejoins every document, leave, and the misuse it refuses. (Real sockets, faults and 50
// documents: packages/transport-reconnecting/test/many-documents.test.ts.)
import { TextType, type TextOp } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import type { OTClient } from "./ot-client.js";
import { OTConnection } from "./ot-connection.js";
import { ScriptedHandshakeTransport, ScriptedTransport } from "./test-support/scripted-transport.js";

type Sent = { type: string; docId?: string; revision?: number; seq?: number; clientId?: string };

const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function openTwo(
  transport: ScriptedTransport,
): Promise<{ connection: OTConnection; a: OTClient<string, TextOp>; b: OTClient<string, TextOp> }> {
  const connection = new OTConnection({ transport, clientId: "client-one-abcdefgh" });
  const opening = [connection.open<string, TextOp>("a", { type: TextType }), connection.open<string, TextOp>("b", { type: TextType })];
  await flush();
  transport.deliver({ type: "snapshot", docId: "a", revision: 0, data: "", docType: "text" });
  transport.deliver({ type: "snapshot", docId: "b", revision: 3, data: "bbb", docType: "text" });
  const [a, b] = await Promise.all(opening);
  return { connection, a: a!, b: b! };
}

describe("OTConnection", () => {
  it("joins every document on one transport with one clientId, and routes by docId", async () => {
    const transport = new ScriptedTransport();
    const { connection, a, b } = await openTwo(transport);
    expect(transport.connects).toBe(1);
    const joins = (transport.take() as Sent[]).filter((m) => m.type === "join");
    expect(joins.map((m) => [m.docId, m.clientId])).toEqual([
      ["a", connection.clientId],
      ["b", connection.clientId],
    ]);
    const remote: string[] = [];
    a.on("remoteOp", () => remote.push("a"));
    b.on("remoteOp", () => remote.push("b"));
    transport.deliver({ type: "op", docId: "b", revision: 4, op: [{ i: "x" }] });
    transport.deliver({ type: "op", docId: "elsewhere", revision: 1, op: [{ i: "y" }] });
    transport.deliver({ type: "pong" });
    expect(remote).toEqual(["b"]);
    expect([a.snapshot, b.snapshot]).toEqual(["", "xbbb"]);
  });

  it("numbers the ops of all documents in one seq sequence, and gives an error naming only a seq to its document", async () => {
    const transport = new ScriptedTransport();
    const { connection, a, b } = await openTwo(transport);
    transport.take();
    a.submit([{ i: "1" }]);
    b.submit([{ i: "2" }]);
    await flush();
    const ops = (transport.take() as Sent[]).filter((m) => m.type === "op");
    expect(ops.map((m) => [m.docId, m.seq])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(connection.lastSeq).toBe(2);
    const errors: string[] = [];
    a.on("error", (e) => errors.push(`a ${e.code}`));
    b.on("error", (e) => errors.push(`b ${e.code}`));
    // No docId: the document that sent seq 2 hears it; one that names nothing, every document.
    transport.deliver({ type: "error", code: "invalid_op", message: "no", seq: 2 });
    await flush();
    expect(errors).toEqual(["b invalid_op"]);
    transport.deliver({ type: "error", code: "bad_message", message: "not JSON" });
    expect(errors.slice(1)).toEqual(["a bad_message", "b bad_message"]);
    const rejoins = (transport.take() as Sent[]).filter((m) => m.type === "join");
    expect(rejoins.map((m) => [m.docId, m.revision])).toEqual([["b", undefined]]);
  });

  it("rejoins every document in one handshake after a reconnection, then each resends its own op", async () => {
    const transport = new ScriptedHandshakeTransport();
    const { a, b } = await openTwo(transport);
    expect(transport.handshakes).toBe(1);
    a.submit([{ i: "1" }]);
    b.submit([{ r: 3 }, { i: "2" }]);
    await flush();
    transport.take();
    transport.lose();
    await transport.reconnect();
    expect(transport.handshakes).toBe(2);
    expect((transport.take() as Sent[]).map((m) => [m.type, m.docId, m.revision])).toEqual([
      ["join", "a", 0],
      ["join", "b", 3],
    ]);
    transport.deliver({ type: "joined", docId: "b", revision: 3 });
    await flush();
    expect((transport.take() as Sent[]).map((m) => [m.type, m.docId, m.seq])).toEqual([["op", "b", 2]]);
    transport.deliver({ type: "joined", docId: "a", revision: 0 });
    await flush();
    expect((transport.take() as Sent[]).map((m) => [m.type, m.docId, m.seq])).toEqual([["op", "a", 1]]);
  });

  it("shares one join among concurrent opens, sends leave on a document's disconnect, and drops its traffic", async () => {
    const transport = new ScriptedTransport();
    const connection = new OTConnection({ transport });
    const both = [connection.open("a", { type: TextType }), connection.open("a", { type: TextType })];
    await flush();
    expect((transport.take() as Sent[]).map((m) => m.type)).toEqual(["join"]);
    transport.deliver({ type: "snapshot", docId: "a", revision: 0, data: "", docType: "text" });
    const [first, second] = await Promise.all(both);
    expect(second).toBe(first);
    await expect(connection.open("a", { type: { ...TextType } })).rejects.toThrow(/open with the type "text"/);

    await first!.disconnect();
    await flush();
    expect(transport.take()).toEqual([{ type: "leave", docId: "a" }]);
    expect(connection.documentIds).toEqual([]);
    expect(transport.isOpen).toBe(true);
    transport.deliver({ type: "op", docId: "a", revision: 1, op: [{ i: "late" }] });
    expect(first!.snapshot).toBe("");
  });

  it("takes every document offline when a plain transport drops, and connect() rejoins them all", async () => {
    const transport = new ScriptedTransport();
    const { connection, a, b } = await openTwo(transport);
    transport.take();
    transport.drop();
    expect([a.connectionState, b.connectionState, connection.state]).toEqual(["offline", "offline", "offline"]);
    const reconnecting = connection.connect();
    await flush();
    expect(transport.connects).toBe(2);
    expect((transport.take() as Sent[]).map((m) => [m.type, m.docId, m.revision]).sort()).toEqual([
      ["join", "a", 0],
      ["join", "b", 3],
    ]);
    transport.deliver({ type: "joined", docId: "a", revision: 0 });
    transport.deliver({ type: "joined", docId: "b", revision: 3 });
    await reconnecting;
    expect([a.connectionState, b.connectionState]).toEqual(["live", "live"]);
  });

  it("closes every document and the transport, and opens nothing afterwards", async () => {
    const transport = new ScriptedTransport();
    const { connection, a, b } = await openTwo(transport);
    await connection.close();
    expect([a.connectionState, b.connectionState, connection.state]).toEqual(["offline", "offline", "closed"]);
    expect(transport.isOpen).toBe(false);
    expect((transport.take() as Sent[]).filter((m) => m.type === "leave")).toEqual([]);
    await expect(connection.open("c", { type: TextType })).rejects.toThrow(/closed/);
    await expect(a.connect()).rejects.toThrow(/closed/);
  });

  it("refuses a lastSeq that is not a whole number of at least 0", () => {
    const transport = new ScriptedTransport();
    expect(() => new OTConnection({ transport, lastSeq: -1 })).toThrow(
      new RangeError("SeqCounter: lastSeq must be an integer of at least 0, got -1."),
    );
    expect(() => new OTConnection({ transport, lastSeq: "3" as unknown as number })).toThrow(TypeError);
    expect(() => new OTConnection({ transport, lastSeq: 2 ** 53 })).toThrow(RangeError);
  });
});
