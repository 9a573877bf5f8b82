import { describe, expect, it } from "vitest";
import { resolveLimits } from "./connection-limits.js";
import { MessageGate } from "./message-gate.js";

describe("MessageGate", () => {
  const limits = resolveLimits({ rateLimit: { messagesPerSecond: 10, burst: 20, maxRefused: 2 }, maxBatchMessages: 20 }, "test");

  it("charges a batch whole before any of it is handled, and refuses it whole with one verdict", () => {
    let now = 0;
    const gate = new MessageGate(limits, () => now);
    expect(gate.judge(15).kind).toBe("pass");
    const refused = gate.judge(10);
    expect(refused).toMatchObject({ kind: "refuse", code: "rate_limited" });
    expect(refused.kind === "refuse" && refused.retryAfterMs).toBe(500);
    now += 500;
    expect(gate.judge(10).kind).toBe("pass");
  });

  it("closes with 1009 for a batch above maxBatchMessages, whatever the tokens", () => {
    const gate = new MessageGate(limits);
    expect(gate.judge(524_287)).toMatchObject({ kind: "close", code: "too_large", closeCode: 1009 });
  });

  it("closes with 4029 after maxRefused refusals in a row; a pass resets the count", () => {
    let now = 0;
    const gate = new MessageGate(limits, () => now);
    expect(gate.judge(20).kind).toBe("pass");
    expect(gate.judge(1).kind).toBe("refuse");
    now += 100;
    expect(gate.judge(1).kind).toBe("pass");
    expect(gate.judge(1).kind).toBe("refuse");
    expect(gate.judge(1).kind).toBe("refuse");
    expect(gate.judge(1)).toMatchObject({ kind: "close", code: "rate_limited", closeCode: 4029 });
  });

  it("without a rate limit still caps the batch", () => {
    const gate = new MessageGate(resolveLimits({ rateLimit: false }, "test"));
    expect(gate.judge(200).kind).toBe("pass");
    expect(gate.judge(201).kind).toBe("close");
  });

  it("refuses limits that could never let a batch through", () => {
    expect(() => resolveLimits({ rateLimit: { burst: 10 }, maxBatchMessages: 11 }, "test")).toThrow(/maxBatchMessages/);
    expect(resolveLimits({ rateLimit: { burst: 10 } }, "test").maxBatchMessages).toBe(10);
    expect(() => resolveLimits({ maxBufferedBytes: 0 }, "test")).toThrow(
      new RangeError("test: maxBufferedBytes must be an integer of at least 1, got 0."),
    );
    expect(resolveLimits({ maxConnectionsPerAddress: Infinity }, "test").maxConnectionsPerAddress).toBe(Infinity);
  });

  it("checks each limit against its own rule", () => {
    const refusal = (options: Parameters<typeof resolveLimits>[0]): unknown => {
      try {
        resolveLimits(options, "test");
        return undefined;
      } catch (error) {
        return error;
      }
    };
    expect(refusal({ maxMessageBytes: Infinity })).toBeInstanceOf(RangeError);
    expect(refusal({ maxBatchMessages: 1.5 })).toBeInstanceOf(RangeError);
    expect(refusal({ rateLimit: { messagesPerSecond: 0 } })).toEqual(
      new RangeError("test: rateLimit.messagesPerSecond must be a number above 0, got 0."),
    );
    expect(refusal({ rateLimit: { messagesPerSecond: Infinity } })).toBeInstanceOf(RangeError);
    expect(refusal({ rateLimit: { maxRefused: -1 } })).toBeInstanceOf(RangeError);
    expect(refusal({ maxConnections: 0 })).toBeInstanceOf(RangeError);
    expect(refusal({ authTimeoutMs: Number.NaN })).toBeInstanceOf(RangeError);
    expect(refusal({ authTimeoutMs: "5" as unknown as number })).toEqual(
      new TypeError('test: authTimeoutMs must be a number above 0, got "5".'),
    );
    expect(refusal({ maxPendingPerAddress: null as unknown as number })).toBeInstanceOf(TypeError);
    expect(
      resolveLimits(
        {
          rateLimit: { messagesPerSecond: 0.5, burst: 1, maxRefused: 0 },
          maxBatchMessages: 1,
          maxPendingBytesPerAddress: Infinity,
          authTimeoutMs: 0.1,
        },
        "test",
      ),
    ).toMatchObject({
      rateLimit: { messagesPerSecond: 0.5, burst: 1, maxRefused: 0 },
      maxPendingBytesPerAddress: Infinity,
      authTimeoutMs: 0.1,
    });
  });
});
