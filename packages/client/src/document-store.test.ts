import { TextType, type OTType, type TextOp } from "@open-ot/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { documentStoreFor, type HeldDocument } from "./document-store.js";

/** What applying `op` gave: the text, or the refusal's class and message. */
function outcome(run: () => string): string {
  try {
    return `ok:${run()}`;
  } catch (error) {
    return `refused:${(error as Error).name}:${(error as Error).message}`;
  }
}

const alphabet = fc.constantFrom("a", "b", "é", "😀", "\uD83D", " ");
const text = fc.array(alphabet, { maxLength: 12 }).map((parts) => parts.join(""));
/** Ops that may or may not fit: retains and deletes of any size, inserts of any text (surrogate halves too). */
const op: fc.Arbitrary<TextOp> = fc
  .array(
    fc.oneof(
      fc.nat(14).map((r) => ({ r })),
      fc.nat(6).map((d) => ({ d })),
    ) as fc.Arbitrary<TextOp[number]>,
    { maxLength: 5 },
  )
  .chain((base) =>
    fc
      .array(text, { minLength: base.length, maxLength: base.length })
      .map((inserts) => base.flatMap((c, index) => (inserts[index] === "" ? [c] : [c, { i: inserts[index] as string }]))),
  );

describe("documentStoreFor", () => {
  it("holds core's TextType lazily, and applies and reads exactly what TextType.apply gives (property)", () => {
    const store = documentStoreFor(TextType);
    fc.assert(
      fc.property(text, fc.array(op, { maxLength: 80 }), (initial, ops) => {
        let eager = initial;
        let held: HeldDocument = store.hold(initial);
        for (const next of ops) {
          const expected = outcome(() => TextType.apply(eager, next));
          const actual = outcome(() => {
            const applied = store.apply(held, next);
            held = applied;
            return store.read(applied);
          });
          expect(actual).toBe(expected);
          if (expected.startsWith("ok:")) eager = expected.slice(3);
        }
        expect(store.read(held)).toBe(eager);
      }),
      { numRuns: 300, seed: 19 },
    );
  });

  it("receives a remote op as apply would, refusing the same ops, and returns its normal form (property)", () => {
    const store = documentStoreFor(TextType);
    fc.assert(
      fc.property(text, fc.array(op, { maxLength: 80 }), (initial, ops) => {
        let held: HeldDocument = store.hold(initial);
        for (const next of ops) {
          const expected = outcome(() => store.read(store.apply(held, next)));
          let normal: TextOp | undefined;
          const actual = outcome(() => {
            const received = store.receive(held, next);
            held = received.held;
            normal = received.op;
            return store.read(received.held);
          });
          expect(actual).toBe(expected);
          if (normal !== undefined) expect(normal).toEqual(TextType.normalize(next));
        }
      }),
      { numRuns: 300, seed: 34 },
    );
  });

  it("receives on a non-string text as TextType.apply does", () => {
    const store = documentStoreFor(TextType);
    expect(() => store.receive(store.hold(42 as unknown as string), [{ i: "x" }])).toThrow(
      "TextType.apply: the document must be a string.",
    );
  });

  it("transforms checked text ops, in normal form or not, exactly as TextType.transform does (property)", () => {
    const { checked } = documentStoreFor(TextType);
    const wellFormed = op.filter((candidate) => outcome(() => JSON.stringify(TextType.normalize(candidate))).startsWith("ok:"));
    fc.assert(
      fc.property(wellFormed, wellFormed, fc.boolean(), fc.boolean(), fc.constantFrom("left", "right"), (a, b, normalA, normalB, side) => {
        const x = normalA ? TextType.normalize(a) : a;
        const y = normalB ? TextType.normalize(b) : b;
        expect(checked.transform(x, y, side)).toEqual(TextType.transform(x, y, side));
      }),
      { numRuns: 2000, seed: 34 },
    );
  });

  it("reads without building until asked, and keeps older versions intact", () => {
    const store = documentStoreFor(TextType);
    const first = store.hold("hello");
    const second = store.apply(first, [{ r: 5 }, { i: " world" }]);
    const third = store.apply(second, [{ d: 6 }]);
    expect(store.read(third)).toBe("world");
    expect(store.read(second)).toBe("hello world");
    expect(store.read(first)).toBe("hello");
  });

  it("refuses a non-string text as TextType.apply does", () => {
    const store = documentStoreFor(TextType);
    const held = store.hold(42 as unknown as string);
    expect(() => store.apply(held, [{ i: "x" }])).toThrow("TextType.apply: the document must be a string.");
  });

  it("holds any other type's snapshot as it is and applies with its apply", () => {
    const counter: OTType<number, number> = {
      name: "counter",
      create: () => 0,
      apply: (n: number, delta: number) => n + delta,
      transform: (a: number) => a,
      compose: (a: number, b: number) => a + b,
    };
    const store = documentStoreFor(counter);
    const held = store.apply(store.hold(2), 3);
    expect(store.read(held)).toBe(5);
  });
});
