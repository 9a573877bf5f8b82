import { describe, expect, it } from "vitest";
import { isCi, prerequisite } from "./prerequisite.js";

describe("prerequisite", () => {
  it("returns whether the prerequisite is present outside CI", () => {
    expect(prerequisite("a browser", true, "install it", {})).toBe(true);
    expect(prerequisite("a browser", false, "install it", {})).toBe(false);
    expect(prerequisite("a browser", false, "install it", { CI: "false" })).toBe(false);
  });

  it("fails instead of skipping in CI, naming what is missing and how to install it", () => {
    expect(() => prerequisite("Chromium at /usr/bin/chromium", false, "apt-get install chromium", { CI: "true" })).toThrow(
      /Chromium at \/usr\/bin\/chromium is missing.*apt-get install chromium/,
    );
    expect(prerequisite("Chromium", true, "apt-get install chromium", { CI: "true" })).toBe(true);
  });

  it("reads CI=true and CI=1 as CI", () => {
    expect(isCi({ CI: "true" })).toBe(true);
    expect(isCi({ CI: "TRUE" })).toBe(true);
    expect(isCi({ CI: "1" })).toBe(true);
    expect(isCi({ CI: "" })).toBe(false);
    expect(isCi({})).toBe(false);
  });
});
