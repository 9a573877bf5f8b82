import { ChangeSet, Text } from "@codemirror/state";
import { TextType } from "@open-ot/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { changesToTextOp, textOpToChanges } from "./text-op-changes.js";

const text = fc.array(fc.constantFrom("a", "b", "é", "\n", " ", "中"), { maxLength: 20 }).map((c) => c.join(""));
/** A doc and a change set on it, composed of up to four random edits made one after another. */
const docAndChanges = text.chain((doc) =>
  fc.array(fc.tuple(fc.nat(), fc.nat({ max: 4 }), text), { maxLength: 4 }).map((edits) => {
    let changes = ChangeSet.empty(doc.length);
    for (const [at, length, insert] of edits) {
      const from = at % (changes.newLength + 1);
      const to = Math.min(changes.newLength, from + length);
      changes = changes.compose(ChangeSet.of({ from, to, insert }, changes.newLength));
    }
    return { doc, changes };
  }),
);

describe("changesToTextOp and textOpToChanges", () => {
  it("a change set and its op do the same; the op is valid and goes back to the same change set", () => {
    fc.assert(
      fc.property(docAndChanges, ({ doc, changes }) => {
        const op = changesToTextOp(changes);
        const expected = changes.apply(Text.of(doc.split("\n"))).toString();
        expect(TextType.apply(doc, TextType.validate(op, doc))).toBe(expected);
        const back = ChangeSet.of(textOpToChanges(op), doc.length);
        expect(back.apply(Text.of(doc.split("\n"))).toString()).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps an insert at the start of the range it replaces, and maps UTF-16 units one to one", () => {
    expect(changesToTextOp(ChangeSet.of({ from: 2, to: 5, insert: "XY" }, 8))).toEqual([{ r: 2 }, { i: "XY" }, { d: 3 }]);
    expect(
      changesToTextOp(
        ChangeSet.of(
          [
            { from: 0, insert: "😀" },
            { from: 3, to: 4 },
          ],
          6,
        ),
      ),
    ).toEqual([{ i: "😀" }, { r: 3 }, { d: 1 }]);
    expect(changesToTextOp(ChangeSet.empty(3))).toEqual([]);
    expect(textOpToChanges([{ r: 1 }, { d: 2 }, { i: "x" }, { r: 1 }, { i: "" }, { d: 0 }])).toEqual([
      { from: 1, to: 3 },
      { from: 3, insert: "x" },
    ]);
  });
});
