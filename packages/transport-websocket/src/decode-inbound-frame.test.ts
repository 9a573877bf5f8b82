import { describe, expect, it } from "vitest";
import { decodeInboundFrame } from "./decode-inbound-frame.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("decodeInboundFrame", () => {
  it("decodes UTF-8 JSON, keeping the text", () => {
    const frame = decodeInboundFrame(bytes('{"type":"ping","t":"😀"}'));
    expect(frame).toEqual({ ok: true, text: '{"type":"ping","t":"😀"}', value: { type: "ping", t: "😀" } });
  });

  it("refuses invalid UTF-8 instead of replacing it", () => {
    const frame = decodeInboundFrame(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(frame.ok).toBe(false);
    expect(!frame.ok && frame.message).toMatch(/UTF-8/);
  });

  it("refuses text that is not JSON", () => {
    const frame = decodeInboundFrame(bytes("{type: ping}"));
    expect(frame.ok).toBe(false);
    expect(!frame.ok && frame.message).toMatch(/not JSON/);
  });

  it("never throws on deeply nested input", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(() => decodeInboundFrame(bytes(deep))).not.toThrow();
  });
});
