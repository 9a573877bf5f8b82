import { describe, expect, it } from "vitest";
import { diffText } from "./diff-text.js";
import { TextType } from "./text-type.js";

const PAIR1 = "\u{1F600}"; // D83D DE00
const PAIR2 = "\u{1F601}"; // D83D DE01
const PAIR3 = "\u{1F700}"; // D83D DF00

describe("diffText", () => {
  it.each([
    ["", ""],
    ["abc", "abc"],
    ["", "hello"],
    ["hello", ""],
    ["hello world", "hello there world"],
    ["abcabc", "abc"],
    ["aaa", "aaaa"],
    [`x${PAIR1}y`, `x${PAIR2}y`],
    [PAIR1, PAIR3],
    [`a${PAIR1}`, `a${PAIR2}${PAIR1}`],
  ])("turns %j into %j with a valid op", (from, to) => {
    const op = diffText(from, to);
    expect(TextType.validate(op, from)).toEqual(op);
    expect(TextType.apply(from, op)).toBe(to);
  });

  it("is a single replacement between the common prefix and suffix", () => {
    expect(diffText("hello world", "hello there world")).toEqual([{ r: 6 }, { i: "there " }]);
    expect(diffText("abcdef", "abXYef")).toEqual([{ r: 2 }, { i: "XY" }, { d: 2 }]);
    expect(diffText("same", "same")).toEqual([]);
  });

  it("replaces whole pairs when two astral characters share a high surrogate", () => {
    expect(diffText(`x${PAIR1}y`, `x${PAIR2}y`)).toEqual([{ r: 1 }, { i: PAIR2 }, { d: 2 }]);
    expect(diffText(PAIR1, PAIR3)).toEqual([{ i: PAIR3 }, { d: 2 }]);
  });
});
