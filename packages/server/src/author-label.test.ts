import { describe, expect, it } from "vitest";
import { authorLabel } from "./author-label.js";

describe("authorLabel", () => {
  it("is stable for one client in one document and reveals nothing of the clientId", () => {
    const a = authorLabel("doc-1", "client-AAAAAAAAAAAAAAAA");
    expect(authorLabel("doc-1", "client-AAAAAAAAAAAAAAAA")).toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(a).not.toContain("client");
  });

  it("differs between clients and between documents", () => {
    const a = authorLabel("doc-1", "client-AAAAAAAAAAAAAAAA");
    expect(authorLabel("doc-1", "client-BBBBBBBBBBBBBBBB")).not.toBe(a);
    expect(authorLabel("doc-2", "client-AAAAAAAAAAAAAAAA")).not.toBe(a);
  });
});
