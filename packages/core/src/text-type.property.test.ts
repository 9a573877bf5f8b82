// Property tests of the text type over documents with astral characters (surrogate pairs).
// Random ops are generated over whole characters (code points), so they never split a pair,
// and are spelled loosely on purpose (zero counts, empty inserts, split neighbours, trailing
// retains) so that every function also meets ops that are valid but not normalised.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { opFromSteps, type Step } from "../test/op-from-steps.js";
import { referenceTransform } from "../test/reference-text-transform.js";
import { diffText } from "./diff-text.js";
import { InvalidOpError } from "./ot-type.js";
import { findLoneSurrogate } from "./surrogates.js";
import type { Side } from "./ot-type.js";
import { type TextOp } from "./text-op.js";
import { TextType, transformNormalTextOp } from "./text-type.js";
import { transformCursor } from "./transform-cursor.js";

const RUNS = { numRuns: 3000 };

/** Characters of one or two code units; several astral ones share a high surrogate. */
const char = fc.constantFrom("a", "b", "c", " ", "\n", "é", "\u{1F600}", "\u{1F601}", "\u{1F700}", "\u{10000}", "\u{10FFFF}");
const text = (maxLength: number) => fc.array(char, { maxLength }).map((chars) => chars.join(""));
const doc = text(24);

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom("r", "r", "d", "i"),
  chars: fc.nat({ max: 6 }),
  insert: text(4),
});

const opOn = (base: string) => fc.array(step, { maxLength: 8 }).map((steps) => opFromSteps(base, steps));

/** A document and two concurrent ops on it. */
const concurrent = doc.chain((s) => fc.tuple(fc.constant(s), opOn(s), opOn(s)));
/** A document, an op on it, and an op on the result. */
const sequential = doc.chain((s) => opOn(s).chain((a) => fc.tuple(fc.constant(s), fc.constant(a), opOn(TextType.apply(s, a)))));
const side = fc.constantFrom<Side>("left", "right");

/**
 * Ops counted in raw code units with no regard for the document: they may split pairs, reach
 * past the end, or insert lone surrogates. Most are invalid on the document.
 */
const rawOp = fc.array(
  fc.oneof(
    fc.record({ r: fc.nat({ max: 8 }) }),
    fc.record({ d: fc.nat({ max: 4 }) }),
    fc.record({ i: fc.oneof(text(3), fc.constantFrom("\uD83D", "\uDE00", "a\uD83D")) }),
  ),
  { maxLength: 6 },
);

function outcome(run: () => string | TextOp): string | TextOp {
  try {
    return run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOpError);
    return "refused";
  }
}

/** True when `op` is in the normal form `TextType.normalize` documents. */
function isNormal(op: TextOp): boolean {
  const kinds = op.map((c) => ("r" in c ? "r" : "i" in c ? "i" : "d"));
  return (
    op.every((c, k) => {
      const length = "r" in c ? c.r : "i" in c ? c.i.length : c.d;
      const before = kinds[k - 1];
      return length > 0 && before !== kinds[k];
    }) && kinds.at(-1) !== "r"
  );
}

function insertedText(op: TextOp): string {
  return op.map((c) => ("i" in c ? c.i : "")).join("");
}

describe("TextType properties", () => {
  it("transform converges: both orders reach the same document", () => {
    fc.assert(
      fc.property(concurrent, ([s, a, b]) => {
        const viaA = TextType.apply(TextType.apply(s, a), TextType.transform(b, a, "right"));
        const viaB = TextType.apply(TextType.apply(s, b), TextType.transform(a, b, "left"));
        expect(viaA).toBe(viaB);
      }),
      RUNS,
    );
  });

  it("transform keeps every insert and yields an op valid after the other", () => {
    fc.assert(
      fc.property(concurrent, side, ([s, a, b], sd) => {
        const a2 = TextType.transform(a, b, sd);
        // Concurrent deletes cannot remove text the other side inserted: all of it survives.
        expect(insertedText(a2)).toBe(insertedText(a));
        expect(TextType.validate(a2, TextType.apply(s, b))).toEqual(a2);
      }),
      RUNS,
    );
  });

  it("compose agrees with applying in sequence", () => {
    fc.assert(
      fc.property(sequential, ([s, a, b]) => {
        const ab = TextType.compose(a, b);
        expect(TextType.apply(s, ab)).toBe(TextType.apply(TextType.apply(s, a), b));
        expect(TextType.normalize(ab)).toEqual(ab);
      }),
      RUNS,
    );
  });

  it("invert undoes apply", () => {
    fc.assert(
      fc.property(
        doc.chain((s) => fc.tuple(fc.constant(s), opOn(s))),
        ([s, a]) => {
          const after = TextType.apply(s, a);
          expect(TextType.apply(after, TextType.invert(a, s))).toBe(s);
        },
      ),
      RUNS,
    );
  });

  it("normalize is idempotent, keeps apply's result, and leaves the input alone", () => {
    fc.assert(
      fc.property(
        doc.chain((s) => fc.tuple(fc.constant(s), opOn(s))),
        ([s, a]) => {
          const copy = structuredClone(a);
          const n = TextType.normalize(a);
          expect(TextType.normalize(n)).toEqual(n);
          expect(TextType.apply(s, n)).toBe(TextType.apply(s, a));
          expect(TextType.validate(a, s)).toEqual(n);
          expect(a).toEqual(copy);
        },
      ),
      RUNS,
    );
  });

  it("transform does not depend on how its inputs are spelled", () => {
    fc.assert(
      fc.property(concurrent, side, ([, a, b], sd) => {
        expect(TextType.transform(a, b, sd)).toEqual(TextType.transform(TextType.normalize(a), TextType.normalize(b), sd));
      }),
      RUNS,
    );
  });

  it("normalize and validate return ops in normal form", () => {
    fc.assert(
      fc.property(
        doc.chain((s) => fc.tuple(fc.constant(s), opOn(s))),
        ([s, a]) => {
          expect(isNormal(TextType.normalize(a))).toBe(true);
          expect(isNormal(TextType.validate(a, s))).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("transform and transformNormalTextOp give what the reference transform gives, also over a chain of ops", () => {
    // A document, an op on it, and up to four ops applied one after the other on it (the
    // history a stale op is transformed over, one op at a time).
    const chain = doc.chain((s) =>
      fc.tuple(
        fc.constant(s),
        opOn(s),
        fc.array(fc.array(step, { maxLength: 8 }), { maxLength: 4 }).map((stepsList) => {
          const ops: TextOp[] = [];
          let current = s;
          for (const steps of stepsList) {
            const op = opFromSteps(current, steps);
            ops.push(op);
            current = TextType.apply(current, op);
          }
          return ops;
        }),
      ),
    );
    fc.assert(
      fc.property(chain, side, ([, a, ops], sd) => {
        let reference = a;
        let checked = a;
        let fast = TextType.normalize(a);
        const input = structuredClone(fast);
        for (const b of ops) {
          const normal = TextType.normalize(b);
          reference = referenceTransform(reference, b, sd);
          checked = TextType.transform(checked, b, sd);
          fast = transformNormalTextOp(fast, normal, sd);
          expect(checked).toEqual(reference);
          expect(fast).toEqual(reference);
          expect(isNormal(fast)).toBe(true);
        }
        expect(TextType.normalize(a)).toEqual(input);
      }),
      RUNS,
    );
  });

  it("transform over a composition is not transform over its parts (why a server transforms one op at a time)", () => {
    // "a" -> "" (the a deleted) -> "X" (X inserted at 0). A concurrent insert at 0 ties with X
    // over the two ops in turn and, committed later, goes after it; the composition
    // [{d:1},{i:"X"}] inserts X at 1, after the deleted a, so there is no tie and it goes first.
    const b1: TextOp = [{ d: 1 }];
    const b2: TextOp = [{ i: "X" }];
    const a: TextOp = [{ i: "y" }];
    const composed = TextType.compose(b1, b2);
    expect(composed).toEqual([{ d: 1 }, { i: "X" }]);
    const inTurn = TextType.transform(TextType.transform(a, b1, "right"), b2, "right");
    const overComposition = TextType.transform(a, composed, "right");
    expect(TextType.apply("X", inTurn)).toBe("Xy");
    expect(TextType.apply("X", overComposition)).toBe("yX");
  });

  it("transformCursor stays in bounds and lands where transform puts a marker", () => {
    const withCaret = doc.chain((s) => fc.tuple(fc.constant(s), opOn(s), fc.nat({ max: Array.from(s).length }), side));
    fc.assert(
      fc.property(withCaret, ([s, a, caretChars, sd]) => {
        const position = Array.from(s).slice(0, caretChars).join("").length;
        const after = TextType.apply(s, a);
        const moved = transformCursor(position, a, sd);
        expect(moved).toBeGreaterThanOrEqual(0);
        expect(moved).toBeLessThanOrEqual(after.length);
        // The caret behaves as an empty insert: a marker inserted there ends up at `moved`.
        const marker: TextOp = [{ r: position }, { i: "\u0000" }];
        const marked = TextType.apply(after, TextType.transform(marker, a, sd));
        expect(marked.indexOf("\u0000")).toBe(moved);
      }),
      RUNS,
    );
  });

  it("diffText turns one document into another with a valid op", () => {
    fc.assert(
      fc.property(doc, doc, (from, to) => {
        const op = diffText(from, to);
        expect(TextType.validate(op, from)).toEqual(op);
        expect(TextType.apply(from, op)).toBe(to);
      }),
      RUNS,
    );
  });

  it("apply refuses exactly what validate refuses, and valid ops keep text well-formed", () => {
    fc.assert(
      fc.property(doc, rawOp, (s, op) => {
        const validated = outcome(() => TextType.validate(op, s));
        const applied = outcome(() => TextType.apply(s, op));
        expect(applied === "refused").toBe(validated === "refused");
        if (typeof applied === "string" && validated !== "refused") {
          expect(TextType.apply(s, validated as TextOp)).toBe(applied);
          // The surrogate rules are enough: a valid op never leaves half a pair behind.
          expect(findLoneSurrogate(applied)).toBe(-1);
        }
      }),
      RUNS,
    );
  });
});
