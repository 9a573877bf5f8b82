import { TextType, type TextOp } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import { AwaitingConfirm } from "./awaiting-confirm.js";
import { AwaitingWithBuffer } from "./awaiting-with-buffer.js";
import { ImpossibleTransitionError, transformPast, type PendingOp, type StateContext } from "./client-state.js";
import { Synchronized } from "./synchronized.js";

function context(firstSeq = 1): StateContext<string, TextOp> & { sent: PendingOp<TextOp>[] } {
  let seq = firstSeq - 1;
  const sent: PendingOp<TextOp>[] = [];
  return { type: TextType, nextSeq: () => ++seq, sendOp: (p) => sent.push(p), sent };
}

describe("Synchronized", () => {
  it("sends a local edit at once under a new seq and awaits its confirmation", () => {
    const ctx = context(7);
    const next = new Synchronized<TextOp>().applyClient([{ i: "a" }], ctx);
    expect(next).toBeInstanceOf(AwaitingConfirm);
    expect(next.pending).toEqual({ op: [{ i: "a" }], seq: 7 });
    expect(ctx.sent).toEqual([{ op: [{ i: "a" }], seq: 7 }]);
  });

  it("passes a remote op through unchanged", () => {
    const state = new Synchronized<TextOp>();
    const result = state.applyServer([{ r: 2 }, { i: "x" }], TextType);
    expect(result.state).toBe(state);
    expect(result.op).toEqual([{ r: 2 }, { i: "x" }]);
  });

  it("throws on an ack, which cannot happen with nothing in flight", () => {
    expect(() => new Synchronized<TextOp>().serverAck(context())).toThrow(ImpossibleTransitionError);
  });

  it("has nothing to resend", () => {
    const ctx = context();
    new Synchronized<TextOp>().resend(ctx);
    expect(ctx.sent).toEqual([]);
  });
});

describe("AwaitingConfirm", () => {
  const pending = { op: [{ i: "ab" }], seq: 3 };

  it("puts a local edit in a buffer and never into the op in flight (ShareDB PR #327)", () => {
    const ctx = context();
    const next = new AwaitingConfirm<TextOp>(pending).applyClient([{ r: 2 }, { i: "c" }], ctx);
    expect(next).toBeInstanceOf(AwaitingWithBuffer);
    expect(next.pending).toEqual(pending);
    expect(next.buffer).toEqual([{ r: 2 }, { i: "c" }]);
    expect(ctx.sent).toEqual([]);
  });

  it("transforms the op in flight and the remote op past each other; the remote insert wins the tie", () => {
    // Document "": we inserted "ab" at 0, a remote client inserted "X" at 0 and was committed first.
    const result = new AwaitingConfirm<TextOp>(pending).applyServer([{ i: "X" }], TextType);
    expect(result.state.pending).toEqual({ op: [{ r: 1 }, { i: "ab" }], seq: 3 });
    expect(TextType.apply("ab", result.op)).toBe("Xab");
    expect(TextType.apply("X", result.state.pending!.op)).toBe("Xab");
  });

  it("returns to synchronized on ack", () => {
    const ctx = context();
    expect(new AwaitingConfirm<TextOp>(pending).serverAck(ctx)).toBeInstanceOf(Synchronized);
    expect(ctx.sent).toEqual([]);
  });

  it("resends the op in flight with its own seq", () => {
    const ctx = context(10);
    new AwaitingConfirm<TextOp>(pending).resend(ctx);
    expect(ctx.sent).toEqual([pending]);
  });
});

describe("AwaitingWithBuffer", () => {
  const pending = { op: [{ i: "ab" }], seq: 3 };

  it("composes further local edits into the buffer only", () => {
    const ctx = context();
    const next = new AwaitingWithBuffer<TextOp>(pending, [{ r: 2 }, { i: "c" }]).applyClient([{ r: 3 }, { i: "d" }], ctx);
    expect(next.name).toBe("awaitingWithBuffer");
    expect(next.pending).toEqual(pending);
    expect(TextType.apply("ab", next.buffer!)).toBe("abcd");
    expect(ctx.sent).toEqual([]);
  });

  it("transforms op in flight, buffer and remote op; applying either way converges", () => {
    const base = "0123";
    const state = new AwaitingWithBuffer<TextOp>({ op: [{ r: 1 }, { d: 2 }], seq: 5 }, [{ i: "Z" }]);
    const remote: TextOp = [{ r: 2 }, { i: "R" }];
    const result = state.applyServer(remote, TextType);
    const local = TextType.apply(TextType.apply(base, state.pending.op), state.buffer);
    const viaView = TextType.apply(local, result.op);
    const viaServer = TextType.apply(TextType.apply(TextType.apply(base, remote), result.state.pending!.op), result.state.buffer!);
    expect(viaView).toBe(viaServer);
    expect(result.state.pending!.seq).toBe(5);
  });

  it("sends the buffer as a new op with a new seq on ack", () => {
    const ctx = context(4);
    const next = new AwaitingWithBuffer<TextOp>(pending, [{ r: 2 }, { i: "c" }]).serverAck(ctx);
    expect(next).toBeInstanceOf(AwaitingConfirm);
    expect(next.pending).toEqual({ op: [{ r: 2 }, { i: "c" }], seq: 4 });
    expect(ctx.sent).toEqual([{ op: [{ r: 2 }, { i: "c" }], seq: 4 }]);
  });

  it("resends only the op in flight, not the buffer", () => {
    const ctx = context();
    new AwaitingWithBuffer<TextOp>(pending, [{ i: "zz" }]).resend(ctx);
    expect(ctx.sent).toEqual([pending]);
  });
});

describe("transformPast", () => {
  it("puts the client's ops on the right and the remote op on the left (docs/protocol.md Ties)", () => {
    const { own, remote } = transformPast(TextType, [[{ i: "mine" }]], [{ i: "theirs" }]);
    expect(TextType.apply("theirs", own[0]!)).toBe("theirsmine");
    expect(TextType.apply("mine", remote)).toBe("theirsmine");
  });
});
