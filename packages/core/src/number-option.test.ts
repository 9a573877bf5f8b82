import { describe, expect, it } from "vitest";
import { checkNumberOption } from "./number-option.js";

describe("checkNumberOption", () => {
  it("returns a value that obeys the rule", () => {
    expect(checkNumberOption("Hub", "frameHoldMs", 0, { min: 0 })).toBe(0);
    expect(checkNumberOption("Hub", "maxQueuedMessages", 5, { min: 1, integer: true })).toBe(5);
    expect(checkNumberOption("MemoryBackend", "historyLimit", Infinity, { min: 1, integer: true, infinite: true })).toBe(Infinity);
    expect(checkNumberOption("RedisAdapter", "turnHoldMs", 1000, { min: 0, max: 1000, integer: true })).toBe(1000);
  });

  it("refuses NaN, Infinity (unless allowed), fractions for integers and values out of range, naming the owner and option", () => {
    expect(() => checkNumberOption("Hub", "frameHoldMs", Number.NaN, { min: 0 })).toThrow(
      new RangeError("Hub: frameHoldMs must be a number of at least 0, got NaN."),
    );
    expect(() => checkNumberOption("Hub", "frameHoldMs", Infinity, { min: 0 })).toThrow(RangeError);
    expect(() => checkNumberOption("Server", "cacheSize", 1.5, { min: 1, integer: true })).toThrow(
      "Server: cacheSize must be an integer of at least 1, got 1.5.",
    );
    expect(() => checkNumberOption("WebSocketTransport", "connectTimeoutMs", 0, { min: 0, aboveMin: true })).toThrow(
      "WebSocketTransport: connectTimeoutMs must be a number above 0, got 0.",
    );
    expect(() => checkNumberOption("RedisAdapter", "turnHoldMs", 1001, { min: 0, max: 1000, integer: true })).toThrow(
      "RedisAdapter: turnHoldMs must be an integer from 0 to 1000, got 1001.",
    );
    expect(() => checkNumberOption("MemoryBackend", "historyLimit", 0, { min: 1, integer: true, infinite: true })).toThrow(
      "MemoryBackend: historyLimit must be an integer of at least 1, or Infinity, got 0.",
    );
  });

  it("refuses a value that is not a number with a TypeError", () => {
    expect(() => checkNumberOption("Hub", "frameHoldMs", "5", { min: 0 })).toThrow(
      new TypeError('Hub: frameHoldMs must be a number of at least 0, got "5".'),
    );
  });
});
