// The server's unchecked transform of a validated op over committed ops must give exactly what
// TextType.transform gives one op at a time: the same op, or the same refusal for a malformed
// committed op, whether the committed ops are seen for the first time or again (cached).
import { InvalidOpError, TextType, type TextOp } from "@open-ot/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { opFromSteps, type Step } from "../../core/test/op-from-steps.js";
import type { CommittedOp } from "./backend.js";
import { transformOverCommitted } from "./committed-text-ops.js";

/** Characters of one or two code units; several astral ones share a high surrogate. */
const char = fc.constantFrom("a", "b", " ", "\u{1F600}", "\u{1F601}", "\u{10000}");
const text = (maxLength: number) => fc.array(char, { maxLength }).map((chars) => chars.join(""));
const step: fc.Arbitrary<Step> = fc.record({ kind: fc.constantFrom("r", "r", "d", "i"), chars: fc.nat({ max: 5 }), insert: text(3) });
const steps = fc.array(step, { maxLength: 6 });
/** Mostly null; now and then a malformed op. */
const malformed = fc.oneof(
  { weight: 30, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([{ i: "\uD83D" }], [{ r: -1 }], { r: 1 }, [{ r: 1, d: 1 }]) },
);

let refused = 0;
function outcome(run: () => TextOp): TextOp | string {
  try {
    return run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOpError);
    refused++;
    return (error as Error).message;
  }
}

/** TextType.transform over each committed op in turn, the incoming op on the right. */
function inTurn(op: TextOp, committed: readonly CommittedOp[]): TextOp {
  return committed.reduce((current, c) => TextType.transform(current, c.op as TextOp, "right"), op);
}

describe("transformOverCommitted", () => {
  it("gives what TextType.transform gives one op at a time, first and later times", () => {
    // A document, a client's op on it, and a history of ops committed after it, spelled as
    // sent (not normalised); now and then one of them malformed.
    const history = text(12).chain((initial) =>
      fc.tuple(
        steps.map((s) => opFromSteps(initial, s)),
        fc
          .array(fc.tuple(steps, malformed), {
            maxLength: 12,
          })
          .map((entries) => {
            const committed: CommittedOp[] = [];
            let doc = initial;
            for (const [s, bad] of entries) {
              const op = bad ?? opFromSteps(doc, s);
              committed.push({ revision: committed.length + 1, op });
              if (bad === null) doc = TextType.apply(doc, op as TextOp);
            }
            return committed;
          }),
      ),
    );
    fc.assert(
      fc.property(history, fc.nat(), ([op, committed], from) => {
        const validated = TextType.validate(op);
        const since = committed.slice(from % (committed.length + 1));
        const copy = structuredClone(committed);
        const expected = outcome(() => inTurn(validated, committed));
        // The second call finds every committed op's normal form remembered.
        expect(outcome(() => transformOverCommitted(validated, committed))).toEqual(expected);
        expect(outcome(() => transformOverCommitted(validated, committed))).toEqual(expected);
        expect(outcome(() => transformOverCommitted(validated, since))).toEqual(outcome(() => inTurn(validated, since)));
        expect(committed).toEqual(copy);
      }),
      { numRuns: 3000 },
    );
    // Both outcomes were met.
    expect(refused).toBeGreaterThan(0);
  });
});
