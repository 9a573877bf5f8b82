import type { TransportCloseEvent } from "@open-ot/core";
import { describe, expect, it, vi } from "vitest";
import { createClosePolicy, DEFAULT_CLOSE_POLICY, defaultClosePolicy, type ClosePolicyContext } from "./close-policy.js";

function event(code: number, reason = ""): TransportCloseEvent {
  return { code, reason, local: false };
}

function context(overrides: Partial<ClosePolicyContext> = {}): ClosePolicyContext & { backoff: ReturnType<typeof vi.fn> } {
  const backoff = vi.fn((attempt: number) => attempt * 1000 + 7);
  return { attempt: 1, sameCodeCount: 1, random: () => 0.5, ...overrides, backoff } as never;
}

describe("defaultClosePolicy", () => {
  it.each([
    [1000, /connect\(\)/],
    [1008, /origin/],
    [1009, /size limit/],
    [4003, /token/],
  ])("stops on %i and says what to change", (code, advice) => {
    const decision = defaultClosePolicy(event(code, "server says no"), context());
    expect(decision.action).toBe("stop");
    if (decision.action !== "stop") return;
    expect(decision.reason).toMatch(advice);
    expect(decision.reason).toContain(String(code));
    expect(decision.reason).toContain("server says no");
  });

  it("reconnects at once after 1001, with jitter below goingAwayMaxDelay and no backoff", () => {
    for (const random of [0, 0.3, 0.99]) {
      const ctx = context({ attempt: 9, random: () => random });
      const decision = defaultClosePolicy(event(1001), ctx);
      expect(decision).toEqual({ action: "reconnect", delay: random * DEFAULT_CLOSE_POLICY.goingAwayMaxDelay });
      expect(ctx.backoff).not.toHaveBeenCalled();
    }
  });

  it.each([1006, 1011, 1002, 3000, 4500])("backs off after %i (network failure or unknown code)", (code) => {
    const ctx = context({ attempt: 4 });
    expect(defaultClosePolicy(event(code), ctx)).toEqual({ action: "reconnect", delay: 4007 });
    expect(ctx.backoff).toHaveBeenCalledWith(4);
  });

  it("retries 4001 notFoundRetries times with growing delays, then stops", () => {
    const delays: number[] = [];
    for (let n = 1; n <= DEFAULT_CLOSE_POLICY.notFoundRetries; n++) {
      const decision = defaultClosePolicy(event(4001, "no such doc"), context({ attempt: n, sameCodeCount: n }));
      expect(decision.action).toBe("reconnect");
      if (decision.action === "reconnect") delays.push(decision.delay);
    }
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(new Set(delays).size).toBe(delays.length);
    const last = defaultClosePolicy(event(4001, "no such doc"), context({ sameCodeCount: DEFAULT_CLOSE_POLICY.notFoundRetries + 1 }));
    expect(last.action).toBe("stop");
    if (last.action === "stop") expect(last.reason).toMatch(/notFoundRetries/);
  });

  it("waits at least rateLimitedDelay after 4029, plus the backoff", () => {
    const decision = defaultClosePolicy(event(4029), context({ attempt: 2 }));
    expect(decision).toEqual({ action: "reconnect", delay: DEFAULT_CLOSE_POLICY.rateLimitedDelay + 2007 });
  });
});

describe("createClosePolicy", () => {
  it("takes its options", () => {
    const policy = createClosePolicy({ goingAwayMaxDelay: 10, notFoundRetries: 0, rateLimitedDelay: 99 });
    expect(policy(event(1001), context({ random: () => 0.5 }))).toEqual({ action: "reconnect", delay: 5 });
    expect(policy(event(4001), context()).action).toBe("stop");
    expect(policy(event(4029), context({ attempt: 1 }))).toEqual({ action: "reconnect", delay: 99 + 1007 });
  });

  it("refuses bad options", () => {
    expect(() => createClosePolicy({ notFoundRetries: -1 })).toThrow(/notFoundRetries/);
    expect(() => createClosePolicy({ rateLimitedDelay: Infinity })).toThrow(/rateLimitedDelay/);
  });
});
