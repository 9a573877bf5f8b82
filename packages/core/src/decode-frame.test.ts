import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeFrame } from "./decode-frame.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("decodeFrame", () => {
  it("parses JSON text and UTF-8 bytes, and passes other values through", () => {
    expect(decodeFrame('{"a":"é"}')).toEqual({ ok: true, value: { a: "é" } });
    expect(decodeFrame(Buffer.from('["\u{1F600}"]'))).toEqual({ ok: true, value: ["\u{1F600}"] });
    const value = { type: "ping" };
    expect(decodeFrame(value)).toEqual({ ok: true, value });
  });

  it("answers bad_message when the JSON parser runs out of stack", () => {
    // V8 parses deep input iteratively; other engines throw RangeError. Simulate that.
    vi.spyOn(JSON, "parse").mockImplementation(() => {
      throw new RangeError("Maximum call stack size exceeded");
    });
    const result = decodeFrame("[[[]]]");
    expect(result).toMatchObject({ ok: false, error: { code: "bad_message" } });
    expect(result.ok ? "" : result.error.message).toMatch(/nested too deeply/);
  });

  it("answers bad_message for an empty string", () => {
    expect(decodeFrame("")).toMatchObject({ ok: false, error: { code: "bad_message" } });
  });
});
