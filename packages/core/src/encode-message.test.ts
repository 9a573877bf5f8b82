import { describe, expect, it } from "vitest";
import { encodeMessage } from "./encode-message.js";
import type { ServerMessage } from "./protocol.js";

describe("encodeMessage", () => {
  const op: ServerMessage = { type: "op", docId: "d", op: [{ r: 1 }, { i: 'é😀\n"' }], revision: 7, author: "a1" };
  const ack: ServerMessage = { type: "ack", docId: "d", revision: 8, seq: 3 };

  it("encodes one message as JSON.stringify does", () => {
    expect(encodeMessage(op)).toBe(JSON.stringify(op));
    expect(JSON.parse(encodeMessage(op))).toEqual(op);
  });

  it("encodes a batch as the JSON array of its messages, in order", () => {
    const text = encodeMessage([op, ack, op]);
    expect(text).toBe(JSON.stringify([op, ack, op]));
    expect(JSON.parse(text)).toEqual([op, ack, op]);
    expect(encodeMessage([])).toBe("[]");
  });

  it("serialises a shared message object once, however often it is sent", () => {
    const shared: ServerMessage = { type: "op", docId: "d", op: [{ i: "x" }], revision: 1 };
    let reads = 0;
    // A getter counts how often JSON.stringify reads the message's fields.
    Object.defineProperty(shared, "revision", { enumerable: true, get: () => (reads++, 1) });
    const first = encodeMessage(shared);
    for (let i = 0; i < 49; i++) expect(encodeMessage(shared)).toBe(first);
    expect(encodeMessage([shared, shared])).toBe(`[${first},${first}]`);
    expect(reads).toBe(1);
  });

  it("keeps the text where neither keys, JSON, spreads nor structuredClone see it, and encodes frozen messages too", () => {
    const message: ServerMessage = { type: "ack", docId: "d", revision: 2, seq: 1 };
    const text = encodeMessage(message);
    expect(Object.keys(message)).toEqual(["type", "docId", "revision", "seq"]);
    expect(JSON.stringify(message)).toBe(text);
    expect({ ...message }).toEqual(message);
    expect(Object.getOwnPropertySymbols({ ...message })).toEqual([]);
    expect(Object.getOwnPropertySymbols(structuredClone(message))).toEqual([]);
    const frozen = Object.freeze({ type: "pong", t: 5 }) as ServerMessage;
    expect(encodeMessage(frozen)).toBe('{"type":"pong","t":5}');
    expect(encodeMessage(frozen)).toBe('{"type":"pong","t":5}');
  });

  it("throws for a value JSON cannot encode", () => {
    const bad = { type: "pong", t: 1n } as unknown as ServerMessage;
    expect(() => encodeMessage(bad)).toThrow(TypeError);
  });
});
