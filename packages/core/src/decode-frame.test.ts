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

  it("refuses invalid UTF-8 bytes instead of replacing them", () => {
    const result = decodeFrame(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(result).toMatchObject({ ok: false, error: { code: "bad_message" } });
    expect(result.ok ? "" : result.error.message).toMatch(/UTF-8/);
  });

  it("refuses UTF-8 bytes that are not JSON", () => {
    const result = decodeFrame(new TextEncoder().encode("{type: ping}"));
    expect(result).toMatchObject({ ok: false, error: { code: "bad_message" } });
    expect(result.ok ? "" : result.error.message).toMatch(/not JSON/);
  });

  it("never throws on deeply nested input", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(() => decodeFrame(new TextEncoder().encode(deep))).not.toThrow();
  });

  it("answers bad_message for an empty string", () => {
    expect(decodeFrame("")).toMatchObject({ ok: false, error: { code: "bad_message" } });
  });
});
