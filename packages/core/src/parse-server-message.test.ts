import { describe, expect, it } from "vitest";
import { parseServerFrame, parseServerMessage } from "./parse-server-message.js";

function errorOf(input: unknown): string {
  const result = parseServerMessage(input);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.message)}`);
  expect(result.error.code).toBe("bad_message");
  return result.error.message;
}

describe("parseServerMessage", () => {
  it.each([
    [{ type: "snapshot", docId: "d", revision: 0, data: "", docType: "text" }],
    [{ type: "snapshot", docId: "d", revision: 4, data: "abc", docType: "text", lastSeq: 2 }],
    [{ type: "joined", docId: "d", revision: 3 }],
    [{ type: "ack", docId: "d", revision: 1 }],
    [{ type: "ack", docId: "d", revision: 5, seq: 9 }],
    [{ type: "op", docId: "d", op: [{ i: "x" }], revision: 2, author: "Qm9iLXRoZS1sYWJl" }],
    [{ type: "snapshot", docId: "d", revision: 0, data: "", docType: "text", author: "a1" }],
    [{ type: "joined", docId: "d", revision: 3, author: "a1" }],
    [{ type: "op", docId: "d", op: [], revision: 2 }],
    [{ type: "error", code: "bad_revision", message: "m", docId: "d", seq: 1 }],
    [{ type: "error", code: "internal", message: "m" }],
    [{ type: "pong" }],
    [{ type: "pong", t: 5 }],
    [{ type: "snapshot", docId: "d", revision: 4, data: "abc", docType: "text", epoch: "e-1_x" }],
    [{ type: "joined", docId: "d", revision: 3, epoch: "e1" }],
    [{ type: "op", docId: "d", op: [], revision: 2, author: "AbC_-123", seq: 7 }],
    [{ type: "error", code: "bad_revision", message: "m", docId: "d", serverRevision: null }],
    [{ type: "error", code: "bad_revision", message: "m", docId: "d", serverRevision: 12 }],
  ])("accepts %j as is", (message) => {
    expect(parseServerMessage(JSON.stringify(message))).toEqual({ ok: true, message });
  });

  it("drops a clientId on an op (servers never send one client's id to another)", () => {
    expect(parseServerMessage({ type: "op", docId: "d", op: [], revision: 1, clientId: "c1" })).toEqual({
      ok: true,
      message: { type: "op", docId: "d", op: [], revision: 1 },
    });
  });

  it("drops unknown fields", () => {
    expect(parseServerMessage({ type: "joined", docId: "d", revision: 1, extra: 1 })).toEqual({
      ok: true,
      message: { type: "joined", docId: "d", revision: 1 },
    });
  });

  it.each([
    [null, /must be a JSON object; got null/],
    [{ type: "join", docId: "d" }, /Unknown server message type "join"/],
    [{ type: "snapshot", docId: "d", revision: 0, docType: "text" }, /lacks "data"/],
    [{ type: "snapshot", docId: "d", revision: 0, data: "", docType: "" }, /bad "docType"/],
    [{ type: "snapshot", docId: "d", revision: 0, data: "", docType: "text", lastSeq: 0 }, /bad "lastSeq"/],
    [{ type: "joined", docId: "d", revision: -1 }, /bad "revision"/],
    [{ type: "ack", docId: "d", revision: 0 }, /bad "revision": expected a positive integer, got 0/],
    [{ type: "ack", docId: "a b", revision: 1 }, /bad "docId"/],
    [{ type: "op", docId: "d", revision: 1 }, /lacks "op"/],
    [{ type: "op", docId: "d", op: [], revision: 1, author: null }, /bad "author"/],
    [{ type: "op", docId: "d", op: [], revision: 1, author: "" }, /bad "author"/],
    [{ type: "joined", docId: "d", revision: 1, author: "x".repeat(257) }, /bad "author"/],
    [{ type: "error", code: "oops", message: "m" }, /bad "code"/],
    [{ type: "error", code: "internal" }, /lacks "message"/],
    [{ type: "pong", t: null }, /bad "t"/],
  ])("refuses %j", (input, message) => {
    expect(errorOf(input)).toMatch(message);
  });

  it("refuses text that is not JSON", () => {
    expect(errorOf("<html>")).toMatch(/not JSON/);
  });
});

describe("parseServerFrame", () => {
  it("unwraps a batch in order and passes single messages", () => {
    const batch = [{ type: "ack", docId: "d", revision: 1 }, { type: "op", docId: "d", op: [], revision: 2 }, "garbage"];
    const results = parseServerFrame(JSON.stringify(batch));
    expect(results.map((r) => (r.ok ? r.message.type : r.error.code))).toEqual(["ack", "op", "bad_message"]);
    expect(parseServerFrame({ type: "pong" })).toEqual([{ ok: true, message: { type: "pong" } }]);
    expect(parseServerFrame("[]")).toEqual([]);
  });
});

describe("parseServerMessage: v1.1 fields", () => {
  it.each([
    [{ type: "snapshot", docId: "d", revision: 0, data: "", docType: "text", epoch: "" }, /bad "epoch"/],
    [{ type: "joined", docId: "d", revision: 0, epoch: "a/b" }, /bad "epoch"/],
    [{ type: "op", docId: "d", op: [], revision: 1, author: 5 }, /bad "author"/],
    [{ type: "op", docId: "d", op: [], revision: 1, seq: 0 }, /bad "seq"/],
    [{ type: "error", code: "bad_revision", message: "m", serverRevision: -1 }, /bad "serverRevision"/],
  ])("refuses %j", (message, expected) => {
    expect(errorOf(message)).toMatch(expected);
  });
});
