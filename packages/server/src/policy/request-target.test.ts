import { describe, expect, it } from "vitest";
import { parseRequestTarget } from "./request-target.js";

describe("parseRequestTarget", () => {
  it("reads the path and query of an origin-form target", () => {
    const target = parseRequestTarget("/ws?docId=a&batch=1");
    expect(target?.pathname).toBe("/ws");
    expect(target?.query.get("docId")).toBe("a");
    expect(parseRequestTarget("/")?.pathname).toBe("/");
    expect(parseRequestTarget("/a%20b#frag?x")?.pathname).toBe("/a%20b");
  });

  it("keeps a doubled slash, so //ws is never the root path", () => {
    expect(parseRequestTarget("//ws")?.pathname).toBe("//ws");
    expect(parseRequestTarget("//")?.pathname).toBe("//");
  });

  it.each(["", "http://", "ws://", "http://host/ws", "*", "ws", "/\\", "/a\u0000b", "/a b", "/%zz", "/\u00e9"])(
    "refuses %j without throwing",
    (target) => {
      expect(parseRequestTarget(target)).toBeUndefined();
    },
  );

  it("accepts every crash case of issue 16 that is a path, without throwing", () => {
    for (const target of ["//", "///", "//:", "//[", "//a:99999"]) expect(() => parseRequestTarget(target)).not.toThrow();
    expect(parseRequestTarget(undefined)).toBeUndefined();
  });
});
