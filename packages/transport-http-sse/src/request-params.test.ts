import { describe, expect, it } from "vitest";
import { extractSessionId, extractToken, parseStreamRequest } from "./request-params.js";

const parse = (query: string, headers: Record<string, string> = {}) =>
  parseStreamRequest(new URL(`http://h/events${query}`).searchParams, headers);

describe("parseStreamRequest", () => {
  it("reads a stream without a document", () => {
    expect(parse("")).toEqual({ ok: true, params: { batch: false } });
  });

  it("reads docId, clientId, revision and batch", () => {
    expect(parse("?docId=doc-1&clientId=abc_DEF-1&revision=12&batch=1")).toEqual({
      ok: true,
      params: { docId: "doc-1", clientId: "abc_DEF-1", revision: 12, batch: true },
    });
  });

  it("takes Last-Event-ID over the revision in the URL", () => {
    const result = parse("?docId=d&revision=3", { "last-event-id": "9" });
    expect(result.ok && result.params.revision).toBe(9);
  });

  it.each(["../x", "a*b", "{x}", "", "a".repeat(10_000), "a/b"])("refuses docId %j with 400 bad_message", (docId) => {
    const result = parse(`?docId=${encodeURIComponent(docId)}`);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.refusal).toMatchObject({ status: 400, code: "bad_message" });
      expect(result.refusal.message.length).toBeLessThan(300);
    }
  });

  it.each(["-1", "1.5", "01", "x", "", "99999999999999999999"])("refuses revision %j with 400 bad_revision", (revision) => {
    const result = parse(`?docId=d&revision=${encodeURIComponent(revision)}`);
    expect(!result.ok && result.refusal).toMatchObject({ status: 400, code: "bad_revision" });
  });

  it("refuses a bad Last-Event-ID", () => {
    const result = parse("?docId=d", { "last-event-id": "abc" });
    expect(!result.ok && result.refusal.code).toBe("bad_revision");
  });

  it("refuses a bad clientId, a bad batch value, and clientId without docId", () => {
    expect(!parse("?docId=d&clientId=a.b").ok).toBe(true);
    expect(!parse(`?docId=d&clientId=${"a".repeat(65)}`).ok).toBe(true);
    expect(!parse("?batch=yes").ok).toBe(true);
    expect(!parse("?clientId=abc").ok).toBe(true);
  });
});

describe("extractToken and extractSessionId", () => {
  it("prefers the Authorization header over the query parameter", () => {
    const url = new URL("http://h/x?token=q&sessionId=s1").searchParams;
    expect(extractToken(url, { authorization: "Bearer h" })).toBe("h");
    expect(extractToken(url, {})).toBe("q");
    expect(extractToken(new URL("http://h/x").searchParams, { authorization: "Basic abc" })).toBeUndefined();
    expect(extractSessionId(url, { "x-session-id": "s2" })).toBe("s2");
    expect(extractSessionId(url, {})).toBe("s1");
  });
});
