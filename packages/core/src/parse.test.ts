import { describe, expect, it } from "vitest";
import { errorMessage, parseClientFrame, parseClientMessage, type ParseResult } from "./parse.js";
import type { ClientMessage } from "./protocol.js";

function refused(result: ParseResult<ClientMessage>) {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.message)}`);
  return result.error;
}

function accepted(result: ParseResult<ClientMessage>): ClientMessage {
  if (!result.ok) throw new Error(`expected acceptance, got ${result.error.code}: ${result.error.message}`);
  return result.message;
}

describe("parseClientMessage: not a message", () => {
  it.each([
    ["null", /must be a JSON object.*got null/],
    ["[]", /must be a JSON object.*got an array/],
    ["42", /must be a JSON object.*got 42/],
    ['"join"', /must be a JSON object.*got "join"/],
    ["{}", /has no "type"/],
    ['{"type":"hello"}', /Unknown message type "hello"/],
    ['{"type":null}', /Unknown message type null/],
    ['{"type":"snapshot","docId":"d"}', /Unknown message type "snapshot"/],
  ])("refuses %s with bad_message", (json, message) => {
    const error = refused(parseClientMessage(json));
    expect(error.code).toBe("bad_message");
    expect(error.message).toMatch(message);
  });

  it("refuses text that is not JSON", () => {
    const error = refused(parseClientMessage("{type: join}"));
    expect(error.code).toBe("bad_message");
    expect(error.message).toMatch(/not JSON/);
  });
});

describe("parseClientMessage: join", () => {
  it("accepts a full join and keeps only known fields", () => {
    const msg = accepted(
      parseClientMessage({ type: "join", docId: "doc-1", clientId: "abc_DEF-123", revision: 7, batch: true, extra: { x: 1 } }),
    );
    expect(msg).toEqual({ type: "join", docId: "doc-1", clientId: "abc_DEF-123", revision: 7, batch: true });
  });

  it("accepts a minimal join", () => {
    expect(accepted(parseClientMessage('{"type":"join","docId":"a"}'))).toEqual({ type: "join", docId: "a" });
  });

  it.each([
    [{ type: "join" }, /needs "docId"/],
    [{ type: "join", docId: "" }, /"docId" must be 1 to 256 characters.*got ""/],
    [{ type: "join", docId: "a/b" }, /"docId" must be/],
    [{ type: "join", docId: "x".repeat(257) }, /"docId" must be.*a string of 257 characters/],
    [{ type: "join", docId: null }, /"docId" must be.*got null/],
    [{ type: "join", docId: "d", clientId: "has space" }, /"clientId" must be 1 to 64 characters/],
    [{ type: "join", docId: "d", clientId: "x".repeat(65) }, /"clientId" must be/],
    [{ type: "join", docId: "d", batch: "true" }, /"batch" must be true or false; got "true"/],
    [{ type: "join", docId: "d", batch: null }, /"batch" must be true or false; got null/],
  ])("refuses %j with bad_message", (input, message) => {
    const error = refused(parseClientMessage(input));
    expect(error.code).toBe("bad_message");
    expect(error.message).toMatch(message);
  });

  it.each([null, "3", 1.5, -1, 2 ** 53, true])("refuses revision %j with bad_revision, naming the document", (revision) => {
    const error = refused(parseClientMessage({ type: "join", docId: "doc-9", revision }));
    expect(error).toMatchObject({ code: "bad_revision", docId: "doc-9" });
    expect(error.message).toMatch(/"revision" must be a non-negative integer/);
  });

  it("answers bad_message, not bad_revision, when both shape and revision are wrong", () => {
    const error = refused(parseClientMessage({ type: "join", docId: "d", batch: 1, revision: -1 }));
    expect(error.code).toBe("bad_message");
    expect(error.docId).toBe("d");
  });
});

describe("parseClientMessage: op", () => {
  it("accepts an op, passing the op's value through unjudged", () => {
    const op = [{ r: 1 }, { nonsense: true }];
    const msg = accepted(parseClientMessage({ type: "op", op, revision: 0, docId: "d", clientId: "c", seq: 3, junk: 1 }));
    expect(msg).toEqual({ type: "op", op, revision: 0, docId: "d", clientId: "c", seq: 3 });
  });

  it("accepts an op of null (the op's value is for the type to judge)", () => {
    expect(accepted(parseClientMessage({ type: "op", op: null, revision: 2 }))).toEqual({ type: "op", op: null, revision: 2 });
  });

  it.each([
    [{ type: "op", revision: 0 }, /needs "op"/],
    [{ type: "op", op: [] }, /needs "revision"/],
    [{ type: "op", op: [], revision: 0, docId: "" }, /"docId" must be/],
    [{ type: "op", op: [], revision: 0, clientId: 5 }, /"clientId" must be.*got 5/],
    [{ type: "op", op: [], revision: 0, seq: 0 }, /"seq" must be a positive safe integer.*got 0/],
    [{ type: "op", op: [], revision: 0, seq: 1.5 }, /"seq" must be.*got 1.5/],
    [{ type: "op", op: [], revision: 0, seq: null }, /"seq" must be.*got null/],
  ])("refuses %j with bad_message", (input, message) => {
    const error = refused(parseClientMessage(input));
    expect(error.code).toBe("bad_message");
    expect(error.message).toMatch(message);
  });

  it.each([null, "0", 0.5, -3])("refuses revision %j with bad_revision", (revision) => {
    expect(refused(parseClientMessage({ type: "op", op: [], revision })).code).toBe("bad_revision");
  });

  it("puts the op's valid seq and docId on its errors", () => {
    expect(refused(parseClientMessage({ type: "op", op: [], revision: -1, docId: "d", seq: 4 }))).toMatchObject({
      code: "bad_revision",
      docId: "d",
      seq: 4,
    });
    // Also when the refusal is about another field.
    expect(refused(parseClientMessage({ type: "op", op: [], revision: 0, docId: "d", seq: 4, clientId: "" }))).toMatchObject({
      code: "bad_message",
      docId: "d",
      seq: 4,
    });
    expect(refused(parseClientMessage({ type: "op", revision: 0, seq: 9 }))).toMatchObject({ code: "bad_message", seq: 9 });
  });

  it("leaves seq and docId off errors when they were not valid", () => {
    const error = refused(parseClientMessage({ type: "op", op: [], revision: 0, docId: "a b", seq: -1 }));
    expect(error.docId).toBeUndefined();
    expect(error.seq).toBeUndefined();
  });

  it("bad_message wins over bad_revision", () => {
    expect(refused(parseClientMessage({ type: "op", op: [], revision: null, seq: "1" })).code).toBe("bad_message");
    expect(refused(parseClientMessage({ type: "op", revision: null })).code).toBe("bad_message");
  });

  it("treats undefined as a missing field and null as a present one", () => {
    expect(refused(parseClientMessage({ type: "op", op: undefined, revision: 0 })).message).toMatch(/needs "op"/);
    expect(accepted(parseClientMessage({ type: "op", op: [], revision: 0, seq: undefined }))).toEqual({
      type: "op",
      op: [],
      revision: 0,
    });
  });
});

describe("parseClientMessage: leave and ping", () => {
  it("accepts leave with a valid docId and drops other fields", () => {
    expect(accepted(parseClientMessage({ type: "leave", docId: "d", clientId: "!!" }))).toEqual({ type: "leave", docId: "d" });
  });

  it("refuses leave without a valid docId", () => {
    expect(refused(parseClientMessage({ type: "leave" })).message).toMatch(/"leave" message needs "docId"/);
    expect(refused(parseClientMessage({ type: "leave", docId: 3 })).code).toBe("bad_message");
  });

  it("accepts ping with or without t", () => {
    expect(accepted(parseClientMessage({ type: "ping" }))).toEqual({ type: "ping" });
    expect(accepted(parseClientMessage({ type: "ping", t: 12.5 }))).toEqual({ type: "ping", t: 12.5 });
    expect(accepted(parseClientMessage({ type: "ping", t: "x" }))).toEqual({ type: "ping", t: "x" });
  });

  it.each([null, true, {}, [], Infinity])("refuses ping with t = %j", (t) => {
    expect(refused(parseClientMessage({ type: "ping", t })).message).toMatch(/"t" must be a number or a string/);
  });
});

describe("parseClientMessage: input forms", () => {
  const json = '{"type":"join","docId":"d"}';

  it("reads UTF-8 bytes from a Uint8Array, a Buffer and an ArrayBuffer", () => {
    const bytes = new TextEncoder().encode(json);
    for (const input of [bytes, Buffer.from(json), bytes.buffer.slice(0)]) {
      expect(accepted(parseClientMessage(input))).toEqual({ type: "join", docId: "d" });
    }
  });

  it("refuses invalid UTF-8", () => {
    const bytes = Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]);
    const error = refused(parseClientMessage(bytes));
    expect(error.code).toBe("bad_message");
    expect(error.message).toMatch(/not valid UTF-8/);
  });

  it("survives JSON nested 100,000 levels deep", () => {
    const depth = 100_000;
    for (const input of ["[".repeat(depth) + "]".repeat(depth), '{"a":'.repeat(depth) + "1" + "}".repeat(depth)]) {
      expect(refused(parseClientMessage(input)).code).toBe("bad_message");
      const frame = parseClientFrame(input);
      expect(frame.length).toBe(1);
      expect(frame[0]?.ok).toBe(false);
    }
    const deepOp = `{"type":"op","revision":0,"op":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    expect(parseClientMessage(deepOp).ok).toBe(true);
  });
});

describe("parseClientFrame", () => {
  it("gives one result per element of a batch, in order", () => {
    const results = parseClientFrame(
      JSON.stringify([{ type: "join", docId: "a" }, { type: "nope" }, 7, { type: "op", op: [], revision: 1, seq: 2 }]),
    );
    expect(results.map((r) => (r.ok ? r.message.type : r.error.code))).toEqual(["join", "bad_message", "bad_message", "op"]);
  });

  it("gives no results for an empty batch and one for a single message", () => {
    expect(parseClientFrame("[]")).toEqual([]);
    expect(parseClientFrame({ type: "ping" })).toEqual([{ ok: true, message: { type: "ping" } }]);
  });

  it("gives one bad_message for a frame that is not JSON", () => {
    const results = parseClientFrame(Buffer.from("[{"));
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, error: { code: "bad_message" } });
  });
});

describe("errorMessage", () => {
  it("builds the wire error with docId and seq only when present", () => {
    expect(errorMessage({ code: "bad_revision", message: "m", docId: "d", seq: 3 })).toEqual({
      type: "error",
      code: "bad_revision",
      message: "m",
      docId: "d",
      seq: 3,
    });
    expect(errorMessage({ code: "bad_message", message: "m" })).toStrictEqual({ type: "error", code: "bad_message", message: "m" });
  });
});

describe("parseClientMessage: join epoch and the restore extension", () => {
  it("keeps a valid epoch and a restore copy with its author seqs", () => {
    const message = accepted(
      parseClientMessage({
        type: "join",
        docId: "d",
        revision: 4,
        epoch: "ep-1",
        restore: { data: "abcd", seqs: { AAAAAAAAAAAAAAAA: 3 } },
      }),
    );
    expect(message).toEqual({
      type: "join",
      docId: "d",
      revision: 4,
      epoch: "ep-1",
      restore: { data: "abcd", seqs: { AAAAAAAAAAAAAAAA: 3 } },
    });
  });

  it("keeps an author called __proto__ as a plain key", () => {
    const message = accepted(parseClientMessage('{"type":"join","docId":"d","revision":1,"restore":{"data":"","seqs":{"__proto__":2}}}'));
    expect(message.type === "join" && message.restore?.seqs?.["__proto__"]).toBe(2);
  });

  it.each([
    [{ type: "join", docId: "d", epoch: "" }, /"epoch" must be/],
    [{ type: "join", docId: "d", epoch: 7 }, /"epoch" must be/],
    [{ type: "join", docId: "d", revision: 1, restore: "abc" }, /"restore" must be an object with "data"/],
    [{ type: "join", docId: "d", revision: 1, restore: {} }, /"restore" must be an object with "data"/],
    [{ type: "join", docId: "d", restore: { data: "" } }, /"restore" needs "revision"/],
    [{ type: "join", docId: "d", revision: 1, restore: { data: "", seqs: [] } }, /"restore.seqs" must be an object/],
    [{ type: "join", docId: "d", revision: 1, restore: { data: "", seqs: { "": 1 } } }, /maps author labels/],
    [{ type: "join", docId: "d", revision: 1, restore: { data: "", seqs: { ["x".repeat(257)]: 1 } } }, /maps author labels/],
    [{ type: "join", docId: "d", revision: 1, restore: { data: "", seqs: { a: 0 } } }, /maps author labels/],
  ])("refuses %j with bad_message", (input, expected) => {
    const error = refused(parseClientMessage(input));
    expect(error.code).toBe("bad_message");
    expect(error.docId).toBe("d");
    expect(error.message).toMatch(expected);
  });

  it("judges the shape of restore before the revision (bad_message wins over bad_revision)", () => {
    expect(refused(parseClientMessage({ type: "join", docId: "d", revision: -1, restore: 5 })).code).toBe("bad_message");
  });

  it("puts serverRevision on the error message when given", () => {
    expect(errorMessage({ code: "bad_revision", message: "m", docId: "d", serverRevision: null })).toEqual({
      type: "error",
      code: "bad_revision",
      message: "m",
      docId: "d",
      serverRevision: null,
    });
  });
});
