import { describe, expect, it } from "vitest";
import { parseClientMessage, parseServerMessage } from "./parse.js";
import { MAX_PRESENCE_RANGES } from "./presence.js";

describe("presence messages", () => {
  it("parses a client's presence and keeps only known fields", () => {
    const result = parseClientMessage({
      type: "presence",
      docId: "d",
      state: { label: "Ann", color: "#f00", revision: 3, ranges: [{ anchor: 1, head: 2, x: 1 }], admin: true },
    });
    expect(result).toEqual({
      ok: true,
      message: { type: "presence", docId: "d", state: { label: "Ann", color: "#f00", revision: 3, ranges: [{ anchor: 1, head: 2 }] } },
    });
    expect(parseClientMessage({ type: "presence", docId: "d", state: null })).toEqual({
      ok: true,
      message: { type: "presence", docId: "d", state: null },
    });
  });

  it("refuses bad presence with bad_message naming the document", () => {
    const bad = [
      { type: "presence", docId: "d" },
      { type: "presence", docId: "d", state: { ranges: [{ anchor: 1, head: 1 }] } },
      { type: "presence", docId: "d", state: { revision: 1, ranges: [{ anchor: -1, head: 1 }] } },
      {
        type: "presence",
        docId: "d",
        state: { revision: 1, ranges: Array.from({ length: MAX_PRESENCE_RANGES + 1 }, () => ({ anchor: 0, head: 0 })) },
      },
      { type: "presence", docId: "d", state: { label: 5 } },
    ];
    for (const message of bad) {
      const result = parseClientMessage(message);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatchObject({ code: "bad_message", docId: "d" });
    }
  });

  it("keeps a join's presence flag", () => {
    expect(parseClientMessage({ type: "join", docId: "d", presence: true })).toEqual({
      ok: true,
      message: { type: "join", docId: "d", presence: true },
    });
  });

  it("parses a server's presence update and refuses a malformed one", () => {
    const peers = [
      { author: "a1", label: "Ann", revision: 0, ranges: [{ anchor: 0, head: 0 }] },
      { author: "b2", gone: true },
    ];
    expect(parseServerMessage({ type: "presence", docId: "d", peers, full: true })).toEqual({
      ok: true,
      message: { type: "presence", docId: "d", peers, full: true },
    });
    expect(parseServerMessage({ type: "presence", docId: "d", peers: [{ label: "no author" }] }).ok).toBe(false);
  });
});
