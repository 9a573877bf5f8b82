import { describe, expect, it } from "vitest";
import { TextOpBuilder } from "./text-op-builder.js";

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
