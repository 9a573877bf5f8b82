import { describe, expect, it } from "vitest";
import { assertTextOp } from "./assert-text-op.js";
import { InvalidOpError } from "./ot-type.js";

const PAIR = "\u{1F600}"; // one astral character: two UTF-16 code units

function refusal(op: unknown, doc?: string): InvalidOpError {
  try {
    assertTextOp(op, doc);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOpError);
    expect((error as InvalidOpError).code).toBe("invalid_op");
    return error as InvalidOpError;
  }
  throw new Error(`expected ${JSON.stringify(op)} to be refused`);
}

describe("assertTextOp shape checks", () => {
  it.each([
    [null, /must be an array.*got null/],
    [{ r: 1 }, /must be an array.*got an object/],
    ["[]", /must be an array.*got "\[\]"/],
    [3, /must be an array.*got 3/],
  ])("refuses the non-array %j", (op, message) => {
    expect(refusal(op).message).toMatch(message);
  });

  it.each([
    [[{ r: 1 }, null], /component 1 must be an object.*got null/],
    [[[1]], /component 0 must be an object.*got an array/],
    [["abc"], /component 0 must be an object.*got "abc"/],
    [[5], /component 0 must be an object.*got 5/],
    [[new Date(0)], /component 0 must be an object.*got an object/],
  ])("refuses the non-object component in %j", (op, message) => {
    expect(refusal(op).message).toMatch(message);
  });

  it.each([
    [[{}], /component 0 must have exactly one key, r, i or d; it has none/],
    [[{ r: 1, i: "a" }], /component 0 must have exactly one key.*"r", "i"/],
    [[{ i: "a" }, { x: 1 }], /component 1 must have exactly one key.*"x"/],
    [[{ d: 1, extra: true }], /component 0 must have exactly one key.*"d", "extra"/],
  ])("refuses unknown or extra keys in %j", (op, message) => {
    expect(refusal(op).message).toMatch(message);
  });

  it.each([
    [[{ r: -1 }], /component 0: a retain count must be a non-negative integer, got -1/],
    [[{ d: 1.5 }], /component 0: a delete count must be a non-negative integer, got 1.5/],
    [[{ r: Infinity }], /retain count must be a non-negative integer, got Infinity/],
    [[{ d: NaN }], /delete count must be a non-negative integer, got NaN/],
    [[{ r: 2 ** 53 }], /retain count must be a non-negative integer/],
    [[{ r: "1" }], /retain count must be a non-negative integer, got "1"/],
    [[{ d: null }], /delete count must be a non-negative integer, got null/],
  ])("refuses the bad count in %j", (op, message) => {
    expect(refusal(op).message).toMatch(message);
  });

  it("refuses a non-string insert", () => {
    expect(refusal([{ r: 1 }, { i: 7 }]).message).toMatch(/component 1: an insert's i must be a string, got 7/);
  });

  it.each([
    ["\uD83D", 0, "D83D"],
    ["ab\uDE00", 2, "DE00"],
    [`${PAIR}\uD83Dx`, 2, "D83D"],
  ])("refuses the lone surrogate in the insert %j", (text, index, hex) => {
    expect(refusal([{ i: text }]).message).toContain(`component 0: the insert holds a lone surrogate at index ${index} (U+${hex})`);
  });

  it("accepts well-formed ops, zero counts, empty inserts and []", () => {
    expect(() => assertTextOp([])).not.toThrow();
    expect(() => assertTextOp([{ r: 0 }, { i: "" }, { d: 0 }, { i: PAIR }, { r: 3 }, { d: 2 }])).not.toThrow();
    expect(() => assertTextOp([Object.assign(Object.create(null) as object, { r: 1 })])).not.toThrow();
  });
});

describe("assertTextOp against a document", () => {
  it("refuses a retain past the end, trailing or not", () => {
    expect(refusal([{ r: 6 }], "hello").message).toMatch(
      /component 0 \(\{r: 6\}\) reaches code unit 6, past the end of the document \(length 5\)/,
    );
    expect(refusal([{ r: 2 }, { i: "x" }, { r: 4 }], "hello").message).toMatch(/component 2 .* reaches code unit 6/);
  });

  it("refuses a delete past the end", () => {
    expect(refusal([{ r: 3 }, { d: 3 }], "hello").message).toMatch(/component 1 \(\{d: 3\}\) reaches code unit 6/);
  });

  it("accepts ops reaching exactly the end, and inserts at the end", () => {
    expect(() => assertTextOp([{ r: 5 }, { i: "!" }], "hello")).not.toThrow();
    expect(() => assertTextOp([{ d: 5 }], "hello")).not.toThrow();
    expect(() => assertTextOp([{ i: "x" }], "")).not.toThrow();
  });

  it("refuses a retain or delete ending inside a surrogate pair", () => {
    const doc = `a${PAIR}b`;
    expect(refusal([{ r: 2 }, { i: "x" }], doc).message).toMatch(
      /component 0 \(\{r: 2\}\) ends at code unit 2, between the two halves of a surrogate pair; end it at 1 or 3/,
    );
    expect(refusal([{ r: 1 }, { d: 1 }], doc).message).toMatch(/component 1 \(\{d: 1\}\) ends at code unit 2/);
    // A trailing retain is judged too: the rule is about boundaries as sent.
    expect(refusal([{ r: 2 }], doc).message).toMatch(/ends at code unit 2/);
    expect(refusal([{ r: 1 }, { d: 1 }, { d: 1 }], doc).message).toMatch(/component 1/);
  });

  it("accepts ops whose boundaries fall around whole pairs", () => {
    const doc = `a${PAIR}b`;
    expect(() => assertTextOp([{ r: 1 }, { d: 2 }, { i: PAIR }], doc)).not.toThrow();
    expect(() => assertTextOp([{ r: 3 }, { i: "x" }], doc)).not.toThrow();
  });

  it("does not treat lone surrogates already in the document as pairs", () => {
    expect(() => assertTextOp([{ r: 1 }, { d: 1 }], "\uDE00\uD83D")).not.toThrow();
  });
});
