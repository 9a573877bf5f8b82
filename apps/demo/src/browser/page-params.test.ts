import { describe, expect, it } from "vitest";
import { PageParamsError, parsePageParams } from "./page-params.js";

describe("parsePageParams", () => {
  it("defaults to the server's document, WebSocket and the page's own origin", () => {
    expect(parsePageParams("http://localhost:3000/", "doc-1")).toEqual({
      docId: "doc-1",
      transport: "ws",
      servers: ["http://localhost:3000"],
    });
  });

  it("reads ?doc, ?transport and ?servers", () => {
    expect(
      parsePageParams("http://localhost:3001/?doc=notes:1&transport=sse&servers=http://127.0.0.1:3001, http://127.0.0.1:3002/", "doc-1"),
    ).toEqual({
      docId: "notes:1",
      transport: "sse",
      servers: ["http://127.0.0.1:3001", "http://127.0.0.1:3002"],
    });
  });

  it("keeps a path prefix of a server behind a proxy", () => {
    expect(parsePageParams("https://example.com/ot/?servers=https://example.com/ot/", "d").servers).toEqual(["https://example.com/ot"]);
  });

  it.each([
    ["?doc=a/b", /\?doc=a\/b is not a document id/],
    ["?doc=", /\?doc= is not a document id/],
    ["?transport=polling", /use \?transport=ws or \?transport=sse/],
    ["?servers=", /\?servers= is empty/],
    ["?servers=localhost:3001", /must start with http/],
    ["?servers=ws://localhost:3001", /must start with http/],
    ["?servers=http://", /is not a URL/],
  ])("refuses %s with a message that says what to write", (query, message) => {
    expect(() => parsePageParams(`http://localhost:3000/${query}`, "doc-1")).toThrow(PageParamsError);
    expect(() => parsePageParams(`http://localhost:3000/${query}`, "doc-1")).toThrow(message);
  });
});
