import { describe, expect, it } from "vitest";
import { InvalidOpError } from "./ot-type.js";
import { transformCursor } from "./transform-cursor.js";

describe("transformCursor", () => {
  it("moves right past text inserted before the caret and stays before text inserted after it", () => {
    expect(transformCursor(3, [{ r: 1 }, { i: "ab" }])).toBe(5);
    expect(transformCursor(3, [{ r: 4 }, { i: "ab" }])).toBe(3);
  });

  it("at an insert at the caret, moves right by default and stays with side left", () => {
    expect(transformCursor(3, [{ r: 3 }, { i: "ab" }])).toBe(5);
    expect(transformCursor(3, [{ r: 3 }, { i: "ab" }], "right")).toBe(5);
    expect(transformCursor(3, [{ r: 3 }, { i: "ab" }], "left")).toBe(3);
  });

  it("moves left past deleted text and to the start of a delete around it", () => {
    expect(transformCursor(5, [{ d: 2 }])).toBe(3);
    expect(transformCursor(3, [{ r: 1 }, { d: 4 }])).toBe(1);
    expect(transformCursor(3, [{ r: 3 }, { d: 4 }])).toBe(3);
  });

  it("lands where the op's insert stands relative to the stretch it deletes around the caret", () => {
    // The insert comes first: the caret, pulled to the deleted stretch's start, is after it.
    expect(transformCursor(3, [{ r: 1 }, { i: "XY" }, { d: 4 }])).toBe(3);
    // The insert stands at the stretch's end: the caret, inside the stretch, lands before it.
    expect(transformCursor(3, [{ r: 1 }, { d: 4 }, { i: "XY" }])).toBe(1);
    // A caret at the stretch's end ties with the insert there: "right" goes after it.
    expect(transformCursor(5, [{ r: 1 }, { d: 4 }, { i: "XY" }])).toBe(3);
    expect(transformCursor(5, [{ r: 1 }, { d: 4 }, { i: "XY" }], "left")).toBe(1);
  });

  it("refuses bad positions, sides and ops", () => {
    expect(() => transformCursor(-1, [])).toThrow(RangeError);
    expect(() => transformCursor(1.5, [])).toThrow(RangeError);
    expect(() => transformCursor(0, [], "up" as "left")).toThrow(TypeError);
    expect(() => transformCursor(0, [{ r: -1 }])).toThrow(InvalidOpError);
  });
});
