// The README shows examples/editor.browser.ts as it is (test/browser.test.ts runs it in Chromium).
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("the README shows the example file as it is", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("../examples/editor.browser.ts", import.meta.url), "utf8");
  expect(readme).toContain(example.trim());
});
