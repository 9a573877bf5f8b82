import { describe, expect, it } from "vitest";
import { SnapshotCache } from "./snapshot-cache.js";

describe("SnapshotCache", () => {
  it("evicts the least recently used document beyond its capacity", () => {
    const cache = new SnapshotCache(2);
    cache.set("a", { nonce: "n", revision: 1, data: "A" });
    cache.set("b", { nonce: "n", revision: 1, data: "B" });
    expect(cache.get("a")?.data).toBe("A"); // a is now the most recently used
    cache.set("c", { nonce: "n", revision: 1, data: "C" });
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")?.data).toBe("A");
    expect(cache.get("c")?.data).toBe("C");
  });

  it("never replaces a snapshot by an older one of the same document", () => {
    const cache = new SnapshotCache(4);
    cache.set("a", { nonce: "n", revision: 5, data: "five" });
    cache.set("a", { nonce: "n", revision: 3, data: "three" });
    expect(cache.get("a")?.revision).toBe(5);
    cache.set("a", { nonce: "n", revision: 6, data: "six" });
    expect(cache.get("a")?.revision).toBe(6);
  });

  it("replaces the snapshot of a document created anew (other nonce), whatever its revision", () => {
    const cache = new SnapshotCache(4);
    cache.set("a", { nonce: "old", revision: 9, data: "old" });
    cache.set("a", { nonce: "new", revision: 0, data: "new" });
    expect(cache.get("a")).toEqual({ nonce: "new", revision: 0, data: "new" });
  });

  it("holds nothing with capacity 0", () => {
    const cache = new SnapshotCache(0);
    cache.set("a", { nonce: "n", revision: 1, data: "A" });
    expect(cache.get("a")).toBeUndefined();
  });
});
