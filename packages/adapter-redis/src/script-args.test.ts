import { describe, expect, it } from "vitest";
import { COMMIT_BATCH_SCRIPT, COMMIT_SCRIPT, OP_ARGS, SHARED_COMMIT_ARGS } from "./lua-scripts.js";
import { ArgvLayout } from "./script-args.js";

describe("ArgvLayout", () => {
  it("encodes values in layout order, absent ones as empty strings, numbers as text", () => {
    const layout = new ArgvLayout(["first", "second", "third"] as const);
    expect(layout.encode({ third: 3, first: "a" })).toEqual(["a", "", "3"]);
    expect(layout.lua()).toBe("{ first = ARGV[1 + 0], second = ARGV[1 + 1], third = ARGV[1 + 2] }");
    expect(layout.lua("a")).toBe("{ first = ARGV[a + 0], second = ARGV[a + 1], third = ARGV[a + 2] }");
  });

  it("refuses a name that is not a plain Lua identifier", () => {
    expect(() => new ArgvLayout(["ok", "not-ok"])).toThrow(TypeError);
  });

  it("the commit scripts read the op's arguments right after the shared ones", () => {
    expect(COMMIT_SCRIPT.lua).toContain(OP_ARGS.lua(String(SHARED_COMMIT_ARGS.size + 1)));
    expect(COMMIT_BATCH_SCRIPT.lua).toContain(`for a = ${SHARED_COMMIT_ARGS.size + 1}, #ARGV - ${OP_ARGS.size - 1}, ${OP_ARGS.size} do`);
  });
});
