import type { ServerMessage } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import { Outbox } from "./outbox.js";

function recorder(): { frames: unknown[]; connection: { send(m: unknown): void; close(): void } } {
  const frames: unknown[] = [];
  return { frames, connection: { send: (m) => frames.push(m), close: () => undefined } };
}

const pong = (t: number): ServerMessage => ({ type: "pong", t });
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("Outbox", () => {
  it("sends single messages at once when not batching", () => {
    const { frames, connection } = recorder();
    const outbox = new Outbox(connection, false);
    outbox.push(pong(1));
    outbox.push(pong(2));
    expect(frames).toEqual([pong(1), pong(2)]);
  });

  it("coalesces one turn's messages into one array when batching; a lone message stays an object", async () => {
    const { frames, connection } = recorder();
    const outbox = new Outbox(connection, true);
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
    const outbox = new Outbox(connection, false);
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
    const outbox = new Outbox(connection, true);
    outbox.push(pong(1));
    outbox.push(pong(2));
    outbox.flush();
    expect(frames).toEqual([[pong(1), pong(2)]]);
  });
});
