// The README's example is examples/shared-list.mjs, verbatim, and it does what the README says.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
// @ts-expect-error -- a plain JavaScript example without type declarations
import { sharedList } from "../examples/shared-list.mjs";

it("the README shows the example file as it is", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("../examples/shared-list.mjs", import.meta.url), "utf8");
  expect(readme).toContain(example.trim());
});

it("two clients edit a shared list at once and converge", async () => {
  const printed: string[] = [];
  const result: unknown = await (sharedList as (log: (...values: string[]) => void) => Promise<unknown>)((...values) =>
    printed.push(values.join(" ")),
  );
  const expected = {
    items: [
      { text: "milk", done: true },
      { text: "eggs", done: false },
    ],
  };
  expect(result).toEqual(expected);
  expect(printed).toEqual([
    JSON.stringify(expected),
    `${JSON.stringify(expected)} (${JSON.stringify(expected).length} characters of JSON)`,
  ]);
});
