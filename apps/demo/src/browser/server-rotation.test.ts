import { describe, expect, it } from "vitest";
import { ServerRotation } from "./server-rotation.js";

describe("ServerRotation", () => {
  it("starts with the first server and moves to the next one on every later attempt, wrapping around", () => {
    const rotation = new ServerRotation(["http://a", "http://b", "http://c"]);
    expect(rotation.current).toBe("http://a");
    expect([rotation.next(), rotation.next(), rotation.next(), rotation.next()]).toEqual(["http://a", "http://b", "http://c", "http://a"]);
    expect(rotation.current).toBe("http://a");
  });

  it("keeps using a single server", () => {
    const rotation = new ServerRotation(["http://only"]);
    expect([rotation.next(), rotation.next()]).toEqual(["http://only", "http://only"]);
  });

  it("refuses an empty list", () => {
    expect(() => new ServerRotation([])).toThrow(/at least one server/);
  });
});
