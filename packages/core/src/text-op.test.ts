import { describe, expect, it } from "vitest";
import { componentLength, isNoop, textOpLengthDelta, textOpReach } from "./text-op.js";

describe("text op helpers", () => {
  it("measures length delta and reach", () => {
    const op = [{ r: 3 }, { i: "hello" }, { d: 2 }, { r: 1 }, { i: "x" }];
    expect(textOpLengthDelta(op)).toBe(4);
    expect(textOpReach(op)).toBe(6);
    expect(textOpLengthDelta([])).toBe(0);
    expect(textOpReach([])).toBe(0);
  });

  it("tells no-ops apart", () => {
    expect(isNoop([])).toBe(true);
    expect(isNoop([{ r: 5 }, { i: "" }, { d: 0 }])).toBe(true);
    expect(isNoop([{ r: 5 }, { i: "a" }])).toBe(false);
    expect(isNoop([{ d: 1 }])).toBe(false);
  });

  it("gives component lengths", () => {
    expect(componentLength({ r: 2 })).toBe(2);
    expect(componentLength({ i: "abc" })).toBe(3);
    expect(componentLength({ d: 4 })).toBe(4);
  });
});
