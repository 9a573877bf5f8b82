import type { TransportCloseEvent } from "@open-ot/core";
import { describe, expect, it, vi } from "vitest";
import { createClosePolicy, DEFAULT_CLOSE_POLICY, defaultClosePolicy, type ClosePolicyContext } from "./close-policy.js";

function event(code: number, reason = ""): TransportCloseEvent {
  return { code, reason, local: false };
}

function context(overrides: Partial<ClosePolicyContext> = {}): ClosePolicyContext & { backoff: ReturnType<typeof vi.fn> } {
  const backoff = vi.fn((attempt: number) => attempt * 1000 + 7);
  return { attempt: 1, sameCodeCount: 1, random: () => 0.5, ...overrides, backoff };
}

describe("defaultClosePolicy", () => {
  it.each([
    [1000, /connect\(\)/],
    [1008, /origin/],
    [1009, /size limit/],
    [4009, /clientId/],
  ])("stops on %i and says what to change", (code, advice) => {
    const decision = defaultClosePolicy(event(code, "server says no"), context());
    expect(decision.action).toBe("stop");
    if (decision.action !== "stop") return;
    expect(decision.reason).toMatch(advice);
    expect(decision.reason).toContain(String(code));
    expect(decision.reason).toContain("server says no");
  });

  it("after 4003 reconnects once soon, to ask for a fresh token, and stops on a second 4003 in a row", () => {
    const first = context({ attempt: 6, sameCodeCount: 1 });
    expect(defaultClosePolicy(event(4003, "token expired"), first)).toEqual({ action: "reconnect", delay: 1007 });
    expect(first.backoff).toHaveBeenCalledWith(1);
    const again = defaultClosePolicy(event(4003, "token expired"), context({ sameCodeCount: 2 }));
    expect(again.action).toBe("stop");
    if (again.action !== "stop") return;
    expect(again.reason).toMatch(/2 times in a row/);
    expect(again.reason).toMatch(/token function/);
    expect(again.reason).toContain("token expired");
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

describe("after a 1001: retrying soon for goingAwayRetries failures, then the backoff", () => {
  const { goingAwayMaxDelay, goingAwayRetries } = DEFAULT_CLOSE_POLICY;

  it("defaults to 8 retries below 1 s", () => {
    expect([goingAwayMaxDelay, goingAwayRetries]).toEqual([1000, 8]);
  });

  it.each([1006, 1011, 4500])(
    "retries a %i within goingAwayMaxDelay (full jitter) for goingAwayRetries failures, without the backoff",
    (code) => {
      for (let since = 1; since <= goingAwayRetries; since++) {
        for (const random of [0, 0.25, 0.999]) {
          const ctx = context({ attempt: since, sinceGoingAway: since, random: () => random });
          expect(defaultClosePolicy(event(code), ctx)).toEqual({ action: "reconnect", delay: random * goingAwayMaxDelay });
          expect(ctx.backoff).not.toHaveBeenCalled();
        }
      }
    },
  );

  it("then backs off from the first step: backoff(attempt - goingAwayRetries)", () => {
    for (let k = 1; k <= 4; k++) {
      const since = goingAwayRetries + k;
      const ctx = context({ attempt: since, sinceGoingAway: since });
      expect(defaultClosePolicy(event(1006), ctx)).toEqual({ action: "reconnect", delay: k * 1000 + 7 });
      expect(ctx.backoff).toHaveBeenCalledWith(k);
    }
  });

  it("keeps the growth of failures that came before the 1001", () => {
    // The 1001 came at attempt 5 of a streak: the first backoff after the soon retries is step 5.
    const since = goingAwayRetries + 1;
    const ctx = context({ attempt: 4 + since, sinceGoingAway: since });
    defaultClosePolicy(event(1006), ctx);
    expect(ctx.backoff).toHaveBeenCalledWith(5);
  });

  it("backs off as before when there was no 1001 in the streak (sinceGoingAway undefined or absent)", () => {
    const ctx = context({ attempt: 3, sinceGoingAway: undefined });
    expect(defaultClosePolicy(event(1006), ctx)).toEqual({ action: "reconnect", delay: 3007 });
    const absent = context({ attempt: 3 });
    expect(defaultClosePolicy(event(1006), absent)).toEqual({ action: "reconnect", delay: 3007 });
  });

  it("leaves 4001, 4029 and the codes that stop to their own handling", () => {
    const soon = { attempt: 1, sinceGoingAway: 1 };
    expect(defaultClosePolicy(event(4029), context(soon))).toEqual({
      action: "reconnect",
      delay: DEFAULT_CLOSE_POLICY.rateLimitedDelay + 1007,
    });
    expect(defaultClosePolicy(event(4001), context({ ...soon, sameCodeCount: 1 }))).toEqual({ action: "reconnect", delay: 1007 });
    expect(defaultClosePolicy(event(4003), context({ ...soon, sameCodeCount: 2 })).action).toBe("stop");
    expect(defaultClosePolicy(event(4009), context(soon)).action).toBe("stop");
    expect(defaultClosePolicy(event(1000), context(soon)).action).toBe("stop");
  });

  it("goingAwayRetries: 0 backs off right after the first retry, as before the option existed", () => {
    const policy = createClosePolicy({ goingAwayRetries: 0 });
    const ctx = context({ attempt: 1, sinceGoingAway: 1 });
    expect(policy(event(1006), ctx)).toEqual({ action: "reconnect", delay: 1007 });
    expect(policy(event(1001), context({ sinceGoingAway: 0, random: () => 0.5 }))).toEqual({ action: "reconnect", delay: 500 });
  });

  it("takes goingAwayRetries and goingAwayMaxDelay together", () => {
    const policy = createClosePolicy({ goingAwayRetries: 2, goingAwayMaxDelay: 200 });
    const delays = [1, 2, 3].map((n) => policy(event(1006), context({ attempt: n, sinceGoingAway: n, random: () => 0.5 })));
    expect(delays).toEqual([
      { action: "reconnect", delay: 100 },
      { action: "reconnect", delay: 100 },
      { action: "reconnect", delay: 1007 },
    ]);
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
    expect(() => createClosePolicy({ goingAwayRetries: -1 })).toThrow(/goingAwayRetries/);
    expect(() => createClosePolicy({ goingAwayRetries: Number.NaN })).toThrow(/goingAwayRetries/);
  });
});
