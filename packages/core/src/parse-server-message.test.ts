import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseServerFields, parseServerFrame, parseServerMessage } from "./parse-server-message.js";

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

describe("parseServerMessage's quick path for op and ack", () => {
  // Values that meet or break each field's rule, and fields no server message has.
  const anyValue = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.constantFrom("d", "doc-1", "a b", "", "x".repeat(257), "Qm9iLXRoZS1sYWJl", "y".repeat(256)),
    fc.constantFrom(0, 1, 2, -1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, Number.NaN),
    fc.constant([{ i: "x" }]),
    fc.constant({}),
    fc.boolean(),
  );
  const fieldNames = ["type", "docId", "op", "revision", "author", "seq", "clientId", "extra", "__proto__", "constructor", "toString"];
  const message = fc
    .record({
      type: fc.constantFrom("op", "ack", "joined", "pong", 1),
      fields: fc.dictionary(fc.constantFrom(...fieldNames), anyValue, { maxKeys: 8 }),
      valid: fc.record({
        docId: fc.constantFrom("d", "doc-1"),
        revision: fc.integer({ min: 1, max: 9 }),
        seq: fc.integer({ min: 1, max: 9 }),
      }),
      keepValid: fc.boolean(),
    })
    .map(({ type, fields, valid, keepValid }) => {
      // Half of them start from a valid message, so that single broken fields are tried too.
      const base: Record<string, unknown> = keepValid ? { docId: valid.docId, op: [], revision: valid.revision, seq: valid.seq } : {};
      return JSON.parse(JSON.stringify({ ...base, ...fields, type })) as unknown;
    });

  it("gives what the field-by-field check gives, acceptance and refusal alike", () => {
    fc.assert(
      fc.property(message, (value) => {
        expect(parseServerMessage(value)).toStrictEqual(parseServerFields(value));
      }),
      { numRuns: 3000 },
    );
  });

  it("reads no field from the prototype", () => {
    const proto = { docId: "d", op: [], revision: 1 };
    const inherited = Object.assign(Object.create(proto) as Record<string, unknown>, { type: "op" });
    expect(parseServerMessage(inherited)).toStrictEqual(parseServerFields(inherited));
    expect(parseServerMessage(inherited).ok).toBe(false);
    const ack = Object.assign(Object.create({ revision: 3 }) as Record<string, unknown>, { type: "ack", docId: "d" });
    expect(parseServerMessage(ack).ok).toBe(false);
  });
});
