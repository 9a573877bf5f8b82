import type { PingMessage } from "@open-ot/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_HEARTBEAT, Heartbeat } from "./heartbeat.js";

describe("Heartbeat", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(sendPing: (ping: PingMessage) => Promise<void> = () => Promise.resolve()) {
    const pings: PingMessage[] = [];
    const dead: Array<{ reason: string; error?: Error }> = [];
    const heartbeat = new Heartbeat({ interval: 1000, timeout: 300 }, "pfx-", {
      sendPing: (ping) => {
        pings.push(ping);
        return sendPing(ping);
      },
      onDead: (reason, error) => dead.push({ reason, ...(error ? { error } : {}) }),
    });
    return { heartbeat, pings, dead };
  }

  it("has the documented defaults", () => {
    expect(DEFAULT_HEARTBEAT).toEqual({ interval: 25_000, timeout: 10_000 });
  });

  it("pings every interval after the previous pong, with ids under its prefix", async () => {
    const { heartbeat, pings, dead } = setup();
    heartbeat.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(pings).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings).toEqual([{ type: "ping", t: "pfx-1" }]);
    await vi.advanceTimersByTimeAsync(200);
    heartbeat.pong("pfx-1");
    await vi.advanceTimersByTimeAsync(999);
    expect(pings).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings.map((p) => p.t)).toEqual(["pfx-1", "pfx-2"]);
    heartbeat.pong("pfx-2");
    expect(dead).toEqual([]);
    heartbeat.stop();
  });

  it("declares the connection dead when the pong does not come within the timeout", async () => {
    const { heartbeat, pings, dead } = setup();
    heartbeat.start();
    await vi.advanceTimersByTimeAsync(1000);
    heartbeat.pong("pfx-999"); // not the ping in flight
    heartbeat.pong("other");
    await vi.advanceTimersByTimeAsync(299);
    expect(dead).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toMatch(/heartbeat.timeout/);
    // Stopped after the verdict: no more pings, no second verdict.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pings).toHaveLength(1);
    expect(dead).toHaveLength(1);
  });

  it("declares the connection dead when the ping cannot be sent", async () => {
    const failure = new Error("socket gone");
    const { heartbeat, dead } = setup(() => Promise.reject(failure));
    heartbeat.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.error).toBe(failure);
    expect(dead[0]?.reason).toContain("socket gone");
  });

  it("probe() pings at once when idle, and not twice while a ping is in flight", async () => {
    const { heartbeat, pings } = setup();
    heartbeat.start();
    heartbeat.probe();
    expect(pings).toHaveLength(1);
    heartbeat.probe();
    expect(pings).toHaveLength(1);
    heartbeat.pong("pfx-1");
    await vi.advanceTimersByTimeAsync(1000);
    expect(pings).toHaveLength(2);
    heartbeat.stop();
  });

  it("stop() silences it: no ping, no verdict, even for a ping in flight that fails later", async () => {
    let fail: (error: Error) => void = () => undefined;
    const { heartbeat, pings, dead } = setup(
      () =>
        new Promise<void>((_, reject) => {
          fail = reject;
        }),
    );
    heartbeat.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(pings).toHaveLength(1);
    heartbeat.stop();
    fail(new Error("late"));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pings).toHaveLength(1);
    expect(dead).toEqual([]);
  });
});
