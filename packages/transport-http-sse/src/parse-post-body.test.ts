import { describe, expect, it } from "vitest";
import { MAX_BODY_DEPTH, parsePostBody } from "./parse-post-body.js";

function refusal(text: string) {
  const result = parsePostBody(text);
  if (result.ok) throw new Error(`expected a refusal for ${text.slice(0, 40)}`);
  return result.refusal;
}

describe("parsePostBody", () => {
  it("accepts one message and counts it", () => {
    const result = parsePostBody('{"type":"ping","t":1}');
    expect(result).toEqual({ ok: true, params: { value: { type: "ping", t: 1 }, count: 1 } });
  });

  it("accepts an array of messages and counts each", () => {
    const result = parsePostBody('[{"type":"ping"},{"type":"leave","docId":"a"}]');
    expect(result.ok && result.params.count).toBe(2);
  });

  it("leaves unknown types and missing fields to the hub", () => {
    expect(parsePostBody('{"type":"nonsense"}').ok).toBe(true);
    expect(parsePostBody('{"type":"op"}').ok).toBe(true);
  });

  it.each([
    ["not JSON", "{type: ping}"],
    ["a number", "42"],
    ["a string", '"ping"'],
    ["null", "null"],
    ["an object without type", '{"t":1}'],
    ["a non-string type", '{"type":5}'],
    ["an empty array", "[]"],
    ["an array holding a non-object", '[{"type":"ping"},3]'],
    ["an array holding an array", '[[{"type":"ping"}]]'],
  ])("refuses %s with 400 bad_message", (_name, text) => {
    expect(refusal(text)).toMatchObject({ status: 400, code: "bad_message" });
  });

  it("refuses JSON nested deeper than the bound without parsing it", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(refusal(deep).message).toMatch(/more than 1000 levels/);
    const justOver = `{"type":"ping","t":${"[".repeat(MAX_BODY_DEPTH)}${"]".repeat(MAX_BODY_DEPTH)}}`;
    expect(refusal(justOver)).toMatchObject({ status: 400, code: "bad_message" });
  });

  it("does not count brackets inside strings as nesting", () => {
    const text = JSON.stringify({ type: "ping", t: "[".repeat(5_000) + '\\"{' });
    expect(parsePostBody(text).ok).toBe(true);
  });
});
