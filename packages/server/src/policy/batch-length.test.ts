import { describe, expect, it } from "vitest";
import { batchLength } from "./batch-length.js";

describe("batchLength", () => {
  it.each([
    ['{"type":"ping"}', 1],
    ["[]", 0],
    [" [ ] ", 0],
    ['[{"type":"ping"}]', 1],
    ['[{"a":[1,2,3]},{"b":"x,y,]"},"\\",",3]', 4],
    ["[1,1,1]", 3],
    ["not json", 1],
  ])("counts %s as %i", (text, n) => {
    expect(batchLength(text, 1000)).toBe(n);
    expect(batchLength(Buffer.from(text), 1000)).toBe(n);
  });

  it("stops counting once past the limit", () => {
    const frame = `[${"1,".repeat(524_286)}1]`;
    expect(batchLength(frame, 200)).toBe(201);
    expect(batchLength(Buffer.from(frame), 524_287)).toBe(524_287);
  });
});
