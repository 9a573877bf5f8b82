// Differential tests of the text type against ot-text-unicode (the text type ShareDB uses),
// an implementation written independently of ours. Its ops are `[n, "s", {d: n}]` (skip,
// insert, delete) counted in code points; the documents and inserts here are BMP text, so code
// points and our UTF-16 code units agree. Ops are generated with inserts next to deletes in
// both orders, where component order decides ties (docs/protocol.md, "Component order").
import fc from "fast-check";
import otText from "ot-text-unicode";
import { describe, expect, it } from "vitest";
import type { Side } from "./ot-type.js";
import type { TextComponent, TextOp } from "./text-op.js";
import { LazyText } from "./lazy-text.js";
import { TextType, transformNormalTextOp } from "./text-type.js";
import { transformCursor } from "./transform-cursor.js";

const reference = otText.type;
type ReferenceComponent = number | string | { d: number | string };
type ReferenceOp = ReferenceComponent[];

/** Functions of ot-text-unicode's type that its declarations leave out. */
const referenceInvert = reference as unknown as {
  invertWithDoc(op: ReferenceOp, doc: string): ReferenceOp;
  stripInvertible(op: ReferenceOp): ReferenceOp;
};

const RUNS = { numRuns: 5000 };

function toReference(op: readonly TextComponent[]): ReferenceOp {
  return op.map((c) => ("r" in c ? c.r : "i" in c ? c.i : { d: c.d }));
}

function fromReference(op: ReferenceOp): TextOp {
  return op.map((c) => {
    if (typeof c === "number") return { r: c };
    if (typeof c === "string") return { i: c };
    return { d: typeof c.d === "number" ? c.d : c.d.length };
  });
}

const char = fc.constantFrom("a", "b", "c", " ", "\n", "é", "中");
const text = (maxLength: number) => fc.array(char, { maxLength }).map((chars) => chars.join(""));

/**
 * An op on `base`, spelled loosely (zero counts, empty inserts, split neighbours, trailing
 * retains), with a bias towards an insert straight after a delete and a delete straight after
 * an insert.
 */
function opOn(base: string): fc.Arbitrary<TextOp> {
  const piece = fc.oneof(
    fc.record({ kind: fc.constant("r" as const), n: fc.nat({ max: 5 }) }),
    fc.record({ kind: fc.constant("d" as const), n: fc.nat({ max: 4 }) }),
    fc.record({ kind: fc.constant("i" as const), s: text(3) }),
    fc.record({ kind: fc.constant("di" as const), n: fc.nat({ max: 4 }), s: text(3) }),
    fc.record({ kind: fc.constant("id" as const), n: fc.nat({ max: 4 }), s: text(3) }),
  );
  return fc.array(piece, { maxLength: 7 }).map((pieces) => {
    const op: TextComponent[] = [];
    let left = base.length;
    const take = (n: number): number => {
      const k = Math.min(n, left);
      left -= k;
      return k;
    };
    for (const p of pieces) {
      if (p.kind === "r") op.push({ r: take(p.n) });
      else if (p.kind === "d") op.push({ d: take(p.n) });
      else if (p.kind === "i") op.push({ i: p.s });
      else if (p.kind === "di") op.push({ d: take(p.n) }, { i: p.s });
      else op.push({ i: p.s }, { d: take(p.n) });
    }
    return op;
  });
}

const doc = text(16);
const concurrent = doc.chain((s) => fc.tuple(fc.constant(s), opOn(s), opOn(s)));
const sequential = doc.chain((s) => opOn(s).chain((a) => fc.tuple(fc.constant(s), fc.constant(a), opOn(TextType.apply(s, a)))));
const side = fc.constantFrom<Side>("left", "right");

describe("TextType against ot-text-unicode", () => {
  it("normalises to the same op", () => {
    fc.assert(
      fc.property(
        doc.chain((s) => opOn(s)),
        (a) => {
          expect(toReference(TextType.normalize(a))).toEqual(reference.normalize(toReference(a)));
        },
      ),
      RUNS,
    );
  });

  it("applies to the same document", () => {
    fc.assert(
      fc.property(
        doc.chain((s) => fc.tuple(fc.constant(s), opOn(s))),
        ([s, a]) => {
          expect(TextType.apply(s, a)).toBe(reference.apply(s, reference.normalize(toReference(a))));
        },
      ),
      RUNS,
    );
  });

  it("transforms to the same op on both sides", () => {
    fc.assert(
      fc.property(concurrent, side, ([, a, b], sd) => {
        const theirs = reference.transform(reference.normalize(toReference(a)), reference.normalize(toReference(b)), sd);
        expect(toReference(TextType.transform(a, b, sd))).toEqual(theirs);
        expect(toReference(transformNormalTextOp(TextType.normalize(a), TextType.normalize(b), sd))).toEqual(theirs);
      }),
      RUNS,
    );
  });

  it("transforms each of two concurrent ops over the other into the same document", () => {
    fc.assert(
      fc.property(concurrent, ([s, a, b]) => {
        const ours = TextType.apply(TextType.apply(s, b), TextType.transform(a, b, "right"));
        const na = reference.normalize(toReference(a));
        const nb = reference.normalize(toReference(b));
        const theirs = reference.apply(reference.apply(s, nb), reference.transform(na, nb, "right"));
        expect(ours).toBe(theirs);
      }),
      RUNS,
    );
  });

  it("composes to an op with the same effect", () => {
    // Where the second op inserts at a point where the first deletes, ot-text-unicode puts the
    // insert first and we keep the first op's delete first (as the published OpenOT type
    // does); the effect is the same, so the documents are compared.
    fc.assert(
      fc.property(sequential, ([s, a, b]) => {
        const theirs = reference.compose(reference.normalize(toReference(a)), reference.normalize(toReference(b)));
        expect(TextType.apply(s, TextType.compose(a, b))).toBe(reference.apply(s, theirs));
      }),
      RUNS,
    );
  });

  it("inverts to the same op, which undoes it", () => {
    fc.assert(
      fc.property(
        doc.chain((s) => fc.tuple(fc.constant(s), opOn(s))),
        ([s, a]) => {
          const na = reference.normalize(toReference(a));
          const theirs = referenceInvert.stripInvertible(referenceInvert.invertWithDoc(na, s));
          const ours = TextType.invert(TextType.normalize(a), s);
          expect(toReference(ours)).toEqual(theirs);
          expect(TextType.apply(TextType.apply(s, a), ours)).toBe(s);
        },
      ),
      RUNS,
    );
  });

  it("LazyText checks and applies a run of ops to the same document and ops", () => {
    const run = doc.chain((s) =>
      fc.integer({ min: 1, max: 6 }).chain((count) => {
        // Each op is drawn on the document the previous ones made.
        let arb: fc.Arbitrary<[string, TextOp[]]> = fc.constant([s, []]);
        for (let k = 0; k < count; k++) {
          arb = arb.chain(([now, ops]) => opOn(now).map((op): [string, TextOp[]] => [TextType.apply(now, op), [...ops, op]]));
        }
        return arb.map(([, ops]): [string, TextOp[]] => [s, ops]);
      }),
    );
    fc.assert(
      fc.property(run, ([s, ops]) => {
        let lazy = LazyText.of(s);
        let theirs = s;
        for (const op of ops) {
          const checked = lazy.validate(op);
          const normal = reference.normalize(toReference(op));
          expect(toReference(checked)).toEqual(normal);
          lazy = lazy.apply(checked);
          theirs = reference.apply(theirs, normal);
          expect(lazy.length).toBe(theirs.length);
        }
        expect(lazy.toString()).toBe(theirs);
      }),
      { numRuns: 2000 },
    );
  });

  it("moves a caret as ot-text-unicode moves a position (ties keep the caret before an insert)", () => {
    fc.assert(
      fc.property(
        doc.chain((s) => fc.tuple(opOn(s), fc.nat({ max: s.length }))),
        ([a, position]) => {
          expect(transformCursor(position, a, "left")).toBe(reference.transformPosition(position, reference.normalize(toReference(a))));
        },
      ),
      RUNS,
    );
  });

  it("reads ot-text-unicode's ops back unchanged", () => {
    fc.assert(
      fc.property(concurrent, side, ([, a, b], sd) => {
        const theirs = reference.transform(reference.normalize(toReference(a)), reference.normalize(toReference(b)), sd);
        expect(TextType.normalize(fromReference(theirs))).toEqual(fromReference(theirs));
      }),
      RUNS,
    );
  });
});
