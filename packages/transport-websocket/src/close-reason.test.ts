import { describe, expect, it } from "vitest";
import { MAX_CLOSE_REASON_BYTES, truncateCloseReason } from "./close-reason.js";

describe("truncateCloseReason", () => {
  it("keeps a reason that fits", () => {
    expect(truncateCloseReason("server going away")).toBe("server going away");
  });

  it("cuts ASCII to 123 bytes", () => {
    expect(truncateCloseReason("x".repeat(500))).toBe("x".repeat(MAX_CLOSE_REASON_BYTES));
  });

  it("never splits a multi-byte character or a surrogate pair", () => {
    const reason = "😀".repeat(40); // 4 bytes each: 30 fit in 120 bytes
    const cut = truncateCloseReason(reason);
    expect(cut).toBe("😀".repeat(30));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
  });
});
