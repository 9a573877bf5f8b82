// LazyText must be indistinguishable from the string TextType would build: same code units,
// same length, same refusals with the same messages. Random edits run over astral text, long
// enough to cross the bound where pending ops are applied to the string.
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { opFromSteps, type Step } from "../test/op-from-steps.js";
import { LazyText } from "./lazy-text.js";
import { InvalidOpError } from "./ot-type.js";
import type { TextComponent, TextOp } from "./text-op.js";
import { TextType } from "./text-type.js";

/** Characters of one or two code units; several astral ones share a high surrogate. */
const char = fc.constantFrom("a", "b", " ", "é", "\u{1F600}", "\u{1F601}", "\u{10000}", "\u{10FFFF}");
const text = (maxLength: number) => fc.array(char, { maxLength }).map((chars) => chars.join(""));
/** Text without surrogates, until an edit inserts some. */
const bmpText = (maxLength: number) => fc.array(fc.constantFrom("a", "b", " ", "é"), { maxLength }).map((chars) => chars.join(""));

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom("r", "r", "d", "i"),
  chars: fc.nat({ max: 6 }),
  insert: text(4),
});

/** Steps counted in whole characters of `base` (valid ops), or in raw code units (mostly invalid). */
type Edit = { whole: true; steps: Step[] } | { whole: false; op: TextComponent[] };
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.array(step, { maxLength: 6 }).map((steps): Edit => ({ whole: true, steps })) },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.record({ r: fc.nat({ max: 12 }) }),
          fc.record({ d: fc.nat({ max: 4 }) }),
          fc.record({ i: fc.oneof(text(3), fc.constantFrom("\uD83D", "\uDE00")) }),
        ),
        { maxLength: 5 },
      )
      .map((op): Edit => ({ whole: false, op })),
  },
);

/** The value `run` returns, or the message of the InvalidOpError it throws. */
function outcome<T>(run: () => T): T | { refused: string } {
  try {
    return run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOpError);
    return { refused: (error as Error).message };
  }
}

function expectSameText(lazy: LazyText, flat: string): void {
  expect(lazy.length).toBe(flat.length);
  for (let i = 0; i < flat.length; i++) {
    if (lazy.charCodeAt(i) !== flat.charCodeAt(i))
      expect({ index: i, unit: lazy.charCodeAt(i) }).toEqual({ index: i, unit: flat.charCodeAt(i) });
  }
}

describe("LazyText", () => {
  it.each([
    ["astral text", text(40)],
    ["text without surrogates (judged without reads until an insert brings some)", bmpText(40)],
  ])("reads, validates and applies exactly as TextType does on the string, through many edits: %s", (_, initialText) => {
    fc.assert(
      fc.property(initialText, fc.array(edit, { minLength: 1, maxLength: 90 }), (initial, edits) => {
        let flat = initial;
        let lazy = LazyText.of(initial);
        const versions: [LazyText, string][] = [];
        for (const e of edits) {
          const op = e.whole ? opFromSteps(flat, e.steps) : e.op;
          const normal = outcome(() => lazy.validate(op));
          expect(normal).toEqual(outcome(() => TextType.validate(op, flat)));
          // Validating the normal form again gives it back; applying it (as the server does)
          // or the op as sent must give the same document.
          if (Array.isArray(normal)) expect(lazy.validate(normal)).toEqual(normal);
          const expected = outcome(() => TextType.apply(flat, op));
          const got = outcome(() => lazy.apply(Array.isArray(normal) && e.whole && e.steps.length % 2 === 0 ? normal : op));
          if (typeof expected === "string") {
            expect(got).toBeInstanceOf(LazyText);
            lazy = got as LazyText;
            flat = expected;
            expectSameText(lazy, flat);
            versions.push([lazy, flat]);
          } else {
            expect(got).toEqual(expected);
          }
        }
        expect(lazy.toString()).toBe(flat);
        // Older versions are untouched by later edits and builds.
        for (const [version, string] of versions) {
          expectSameText(version, string);
          expect(version.toString()).toBe(string);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("charCodeAt is NaN outside the document, as on a string", () => {
    const doc = LazyText.of("ab").apply([{ r: 1 }, { i: "\u{1F600}" }]);
    expect(doc.charCodeAt(-1)).toBeNaN();
    expect(doc.charCodeAt(4)).toBeNaN();
    expect(doc.charCodeAt(1)).toBe(0xd83d);
    expect(doc.charCodeAt(2)).toBe(0xde00);
    expect(doc.charCodeAt(3)).toBe(0x62);
  });

  it("refuses an op that ends between the halves of a pair inserted by a pending op", () => {
    const doc = LazyText.of("xy").apply([{ r: 1 }, { i: "\u{1F600}" }]);
    expect(() => doc.apply([{ r: 2 }, { i: "z" }])).toThrow(/between the two halves of a surrogate pair/);
    expect(() => doc.apply([{ r: 5 }])).toThrow(/past the end of the document \(length 4\)/);
    expect(doc.apply([{ r: 3 }, { i: "z" }]).toString()).toBe("x\u{1F600}zy");
  });

  it("judges an op on a document without surrogates without reading it, pending ops and all", () => {
    let doc = LazyText.of("The quick brown fox. ".repeat(5000));
    for (let k = 0; k < 20; k++) doc = doc.apply([{ r: 7 * k }, { d: 2 }, { i: `~${k}|` }]);
    const read = vi.spyOn(doc, "charCodeAt");
    expect(doc.validate([{ r: 50 }, { d: 3 }, { i: "x" }])).toEqual([{ r: 50 }, { d: 3 }, { i: "x" }]);
    expect(() => doc.validate([{ r: doc.length + 1 }])).toThrow(/past the end of the document/);
    expect(read).not.toHaveBeenCalled();
    // Once an insert brings a surrogate pair, boundaries are read again.
    const astral = doc.apply([{ r: 10 }, { i: "\u{1F600}" }]);
    expect(() => astral.validate([{ r: 11 }, { i: "z" }])).toThrow(/between the two halves of a surrogate pair/);
  });

  it("judges undefined as TextType does, even before anything was validated", () => {
    const doc = LazyText.of("ab");
    expect(() => doc.validate(undefined)).toThrow(InvalidOpError);
    expect(() => doc.apply(undefined as unknown as TextOp)).toThrow(InvalidOpError);
  });

  it("refuses a document that is not a string", () => {
    expect(() => LazyText.of(1 as unknown as string)).toThrow(TypeError);
  });
});
