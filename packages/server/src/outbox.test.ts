import type { ServerMessage } from "@open-ot/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Outbox } from "./outbox.js";

function recorder(): { frames: unknown[]; connection: { send(m: unknown): void; close(): void } } {
  const frames: unknown[] = [];
  return { frames, connection: { send: (m) => frames.push(m), close: () => undefined } };
}

const pong = (t: number): ServerMessage => ({ type: "pong", t });
const op = (revision: number): ServerMessage => ({ type: "op", docId: "d", op: [{ i: "x" }], revision });
const ack = (revision: number): ServerMessage => ({ type: "ack", docId: "d", revision });
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("Outbox", () => {
  it("sends single messages at once when not batching", () => {
    const { frames, connection } = recorder();
    const outbox = new Outbox(connection);
    outbox.push(pong(1));
    outbox.push(pong(2));
    expect(frames).toEqual([pong(1), pong(2)]);
  });

  it("coalesces one turn's messages into one array when batching; a lone message stays an object", async () => {
    const { frames, connection } = recorder();
    const outbox = new Outbox(connection, { batch: true });
    outbox.push(pong(1));
    outbox.push(pong(2));
    await Promise.resolve(); // microtasks of the same turn still join the batch
    outbox.push(pong(3));
    expect(frames).toEqual([]);
    await nextTurn();
    expect(frames).toEqual([[pong(1), pong(2), pong(3)]]);
    outbox.push(pong(4));
    await nextTurn();
    expect(frames).toEqual([[pong(1), pong(2), pong(3)], pong(4)]);
  });

  it("switches to batching for good, and sends nothing after close", async () => {
    const { frames, connection } = recorder();
    const outbox = new Outbox(connection);
    outbox.push(pong(1));
    outbox.enableBatching();
    expect(outbox.batching).toBe(true);
    outbox.push(pong(2));
    outbox.push(pong(3));
    outbox.close();
    outbox.push(pong(4));
    await nextTurn();
    expect(frames).toEqual([pong(1)]);
  });

  it("flush() sends what is pending now", () => {
    const { frames, connection } = recorder();
    const outbox = new Outbox(connection, { batch: true });
    outbox.push(pong(1));
    outbox.push(pong(2));
    outbox.flush();
    expect(frames).toEqual([[pong(1), pong(2)]]);
  });
});

describe("Outbox pacing (holdMs)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Fake clocks for setImmediate, setTimeout and performance.now(), so holds are exact. */
  function paced(holdMs: number, batch = true): { frames: unknown[]; outbox: Outbox; turn(): void; advance(ms: number): void } {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "performance"] });
    const { frames, connection } = recorder();
    const outbox = new Outbox(connection, { batch, holdMs });
    return {
      frames,
      outbox,
      turn: () => vi.advanceTimersByTime(0),
      advance: (ms) => vi.advanceTimersByTime(ms),
    };
  }

  it("sends a quiet connection's first op at the end of the turn", () => {
    const { frames, outbox, turn } = paced(10);
    outbox.push(op(1));
    turn();
    expect(frames).toEqual([op(1)]);
  });

  it("holds other clients' ops until the previous frame is holdMs old, then sends them as one frame", () => {
    const { frames, outbox, turn, advance } = paced(10);
    outbox.push(ack(1));
    turn();
    expect(frames).toEqual([ack(1)]);
    advance(3);
    outbox.push(op(2));
    turn();
    advance(3);
    outbox.push(op(3));
    turn();
    expect(frames).toHaveLength(1);
    advance(3); // 9 ms after the ack's frame
    expect(frames).toHaveLength(1);
    advance(1); // 10 ms
    expect(frames).toEqual([ack(1), [op(2), op(3)]]);
  });

  it("never holds a reply: an ack goes out this turn and takes the held ops along, in order", () => {
    const { frames, outbox, turn, advance } = paced(10);
    outbox.push(pong(1));
    turn();
    outbox.push(op(1));
    outbox.push(op(2));
    turn();
    expect(frames).toEqual([pong(1)]);
    advance(2);
    outbox.push(ack(3));
    turn();
    expect(frames).toEqual([pong(1), [op(1), op(2), ack(3)]]);
    // The hold timer was cancelled with that frame: nothing more arrives, and the next op waits
    // for holdMs after the ack's frame.
    outbox.push(op(4));
    advance(9);
    expect(frames).toHaveLength(2);
    advance(1);
    expect(frames).toEqual([pong(1), [op(1), op(2), ack(3)], op(4)]);
  });

  it("holdMs 0 sends every turn's messages at the end of that turn", () => {
    const { frames, outbox, turn } = paced(0);
    outbox.push(ack(1));
    turn();
    outbox.push(op(2));
    turn();
    expect(frames).toEqual([ack(1), op(2)]);
  });

  it("close() cancels a held frame", () => {
    const { frames, outbox, turn, advance } = paced(10);
    outbox.push(ack(1));
    turn();
    outbox.push(op(2));
    outbox.close();
    advance(20);
    expect(frames).toEqual([ack(1)]);
  });

  it("does not hold anything on a connection that did not opt in", () => {
    const { frames, outbox } = paced(10, false);
    outbox.push(ack(1));
    outbox.push(op(2));
    expect(frames).toEqual([ack(1), op(2)]);
  });

  it("refuses a negative or non-finite holdMs", () => {
    const { connection } = recorder();
    expect(() => new Outbox(connection, { holdMs: -1 })).toThrow(RangeError);
    expect(() => new Outbox(connection, { holdMs: Number.NaN })).toThrow(/holdMs/);
  });
});
