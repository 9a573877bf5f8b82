import { describe, expect, it } from "vitest";
import { formatSseComment, formatSseEvent } from "./sse-event.js";

describe("formatSseEvent", () => {
  it("writes event, id and data lines and ends with a blank line", () => {
    expect(formatSseEvent({ event: "session", id: 7, data: '{"a":1}' })).toBe('event: session\nid: 7\ndata: {"a":1}\n\n');
  });

  it("writes a default (message) event without an event line", () => {
    expect(formatSseEvent({ data: "x" })).toBe("data: x\n\n");
  });

  it("splits a payload with line breaks over several data lines", () => {
    expect(formatSseEvent({ data: "a\nb\r\nc\rd" })).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n");
  });

  it("refuses an event name or id that would inject fields", () => {
    expect(() => formatSseEvent({ event: "x\ndata: y", data: "" })).toThrow(TypeError);
    expect(() => formatSseEvent({ id: "1\nevent: close", data: "" })).toThrow(TypeError);
    expect(() => formatSseEvent({ id: "1\0", data: "" })).toThrow(TypeError);
  });
});

describe("formatSseComment", () => {
  it("writes a comment line that EventSources ignore", () => {
    expect(formatSseComment("keep-alive")).toBe(": keep-alive\n\n");
  });
});
