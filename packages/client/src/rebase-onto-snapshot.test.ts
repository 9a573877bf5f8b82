import { diffText, TextType, type TextOp } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import { rebaseOntoSnapshot, type RebaseInput } from "./rebase-onto-snapshot.js";

// The client last saw "hello" at its revision; it sent "hello" -> "hello world" (seq 4) and
// typed "!" at the end after that (buffer). Meanwhile the server got "Say: " at the front.
const base: RebaseInput<string, TextOp> = {
  type: TextType,
  diff: diffText,
  server: "hello",
  pending: { op: [{ r: 5 }, { i: " world" }], seq: 4 },
  buffer: [{ r: 11 }, { i: "!" }],
  snapshot: "Say: hello",
  lastSeq: 3,
  discard: false,
};

describe("rebaseOntoSnapshot", () => {
  it("keeps an uncommitted op in flight: pending and buffer become one op under the pending seq", () => {
    const result = rebaseOntoSnapshot(base);
    expect(result.pendingCommitted).toBe(false);
    expect(result.seq).toBe(4);
    expect(result.view).toBe("Say: hello world!");
    expect(TextType.apply("Say: hello", result.unacked!)).toBe("Say: hello world!");
    expect(result.dropped).toBeUndefined();
  });

  it("drops a committed op in flight (lastSeq >= seq) and rebases only the buffer, to go under a new seq", () => {
    const result = rebaseOntoSnapshot({ ...base, snapshot: "Say: hello world", lastSeq: 4 });
    expect(result.pendingCommitted).toBe(true);
    expect(result.seq).toBeUndefined();
    expect(result.view).toBe("Say: hello world!");
    expect(result.unacked).toEqual(TextType.normalize([{ r: 16 }, { i: "!" }]));
  });

  it("treats a missing lastSeq as nothing committed by this client", () => {
    expect(rebaseOntoSnapshot({ ...base, lastSeq: undefined }).pendingCommitted).toBe(false);
  });

  it("has nothing to send when a committed op in flight had no buffer", () => {
    const result = rebaseOntoSnapshot({ ...base, buffer: undefined, snapshot: "hello world, bye", lastSeq: 9 });
    expect(result).toEqual({ view: "hello world, bye", pendingCommitted: true, unacked: undefined, seq: undefined, dropped: undefined });
  });

  it("drops the edits when there is no diff, and says which", () => {
    const result = rebaseOntoSnapshot({ ...base, diff: undefined });
    expect(result.view).toBe("Say: hello");
    expect(result.unacked).toBeUndefined();
    expect(TextType.apply("hello", result.dropped!)).toBe("hello world!");
  });

  it("drops the edits when asked to discard them", () => {
    const result = rebaseOntoSnapshot({ ...base, discard: true });
    expect(result.view).toBe("Say: hello");
    expect(result.dropped).toBeDefined();
    expect(result.unacked).toBeUndefined();
  });

  it("lets a concurrent insert at the same place come first (the server's change was committed first)", () => {
    const result = rebaseOntoSnapshot({
      ...base,
      server: "ab",
      pending: { op: [{ r: 1 }, { i: "mine" }], seq: 2 },
      buffer: undefined,
      snapshot: "atheirsb",
      lastSeq: undefined,
    });
    expect(result.view).toBe("atheirsmineb");
  });
});
