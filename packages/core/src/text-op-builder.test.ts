import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TextComponent } from "./text-op.js";
import { isNormalTextOp, normalizeWellFormed, TextOpBuilder } from "./text-op-builder.js";

describe("TextOpBuilder", () => {
  it("hands over the op it built and starts again empty, so two results never share components", () => {
    const builder = new TextOpBuilder();
    builder.retain(2);
    builder.delete(1);
    builder.insert("x");
    builder.retain(3); // trailing: dropped
    const first = builder.result();
    expect(first).toEqual([{ r: 2 }, { d: 1 }, { i: "x" }]);
    expect(builder.result()).toEqual([]);
    builder.insert("y");
    const second = builder.result();
    expect(second).toEqual([{ i: "y" }]);
    expect(first).toEqual([{ r: 2 }, { d: 1 }, { i: "x" }]);
  });
});

describe("isNormalTextOp", () => {
  const component = fc.oneof(
    fc.nat({ max: 3 }).map((r): TextComponent => ({ r })),
    fc.nat({ max: 3 }).map((d): TextComponent => ({ d })),
    fc.constantFrom("", "a", "bc").map((i): TextComponent => ({ i })),
  );

  it("says an op is normal exactly when normalizeWellFormed leaves it as it is", () => {
    fc.assert(
      fc.property(fc.array(component, { maxLength: 8 }), (op) => {
        const normal = normalizeWellFormed(op);
        expect(isNormalTextOp(op)).toBe(JSON.stringify(normal) === JSON.stringify(op));
        expect(isNormalTextOp(normal)).toBe(true);
      }),
      { numRuns: 2000, seed: 34 },
    );
    expect(isNormalTextOp([])).toBe(true);
    expect(isNormalTextOp([{ r: 1 }])).toBe(false);
    expect(isNormalTextOp([{ d: 1 }, { i: "x" }])).toBe(true);
    expect(isNormalTextOp([{ i: "x" }, { d: 1 }, { i: "y" }])).toBe(true);
    expect(isNormalTextOp([{ i: "x" }, { i: "y" }])).toBe(false);
    expect(isNormalTextOp([{ r: 1 }, { d: 0 }, { i: "y" }])).toBe(false);
  });
});
