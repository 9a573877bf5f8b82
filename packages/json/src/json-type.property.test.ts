// Property tests of the JSON type, as for text: convergence of concurrent ops on both sides,
// compose, invert, normalize/validate, diff, size, and that untrusted input is only ever
// refused with InvalidOpError.
import { InvalidOpError } from "@open-ot/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { choices, jsonDoc, opFromChoices, opOn, rootDoc } from "../test/random-json.js";
import { JsonType } from "./json-type.js";

const RUNS = { numRuns: Number(process.env["JSON_PROPERTY_RUNS"] ?? 1500) };

const concurrent = rootDoc.chain((s) => fc.tuple(fc.constant(s), opOn(s), opOn(s)));
const sequential = rootDoc.chain((s) => opOn(s).chain((a) => fc.tuple(fc.constant(s), fc.constant(a), opOn(JsonType.apply(s, a)))));

describe("JsonType properties", () => {
  it("transform converges: both orders reach the same document", () => {
    fc.assert(
      fc.property(concurrent, ([s, a, b]) => {
        const viaA = JsonType.apply(JsonType.apply(s, a), JsonType.transform(b, a, "right"));
        const viaB = JsonType.apply(JsonType.apply(s, b), JsonType.transform(a, b, "left"));
        expect(viaA).toEqual(viaB);
      }),
      RUNS,
    );
  });

  it("a transformed op is valid on the document after the other, and transform by a no-op changes nothing", () => {
    fc.assert(
      fc.property(concurrent, fc.constantFrom("left", "right" as const), ([s, a, b], side) => {
        const a2 = JsonType.transform(a, b, side);
        const afterB = JsonType.apply(s, b);
        expect(JsonType.apply(afterB, JsonType.validate(a2, afterB))).toEqual(JsonType.apply(afterB, a2));
        expect(JsonType.apply(s, JsonType.transform(a, null, side))).toEqual(JsonType.apply(s, a));
      }),
      RUNS,
    );
  });

  it("compose agrees with applying in sequence", () => {
    fc.assert(
      fc.property(sequential, ([s, a, b]) => {
        expect(JsonType.apply(s, JsonType.compose(a, b))).toEqual(JsonType.apply(JsonType.apply(s, a), b));
      }),
      RUNS,
    );
  });

  it("invert with the document undoes apply", () => {
    fc.assert(
      fc.property(
        rootDoc.chain((s) => fc.tuple(fc.constant(s), opOn(s))),
        ([s, a]) => {
          const after = JsonType.apply(s, a);
          expect(JsonType.apply(after, JsonType.invert(a, s))).toEqual(s);
        },
      ),
      RUNS,
    );
  });

  it("validate returns the normal form, which does what the op does; normalize is idempotent", () => {
    fc.assert(
      fc.property(
        rootDoc.chain((s) => fc.tuple(fc.constant(s), opOn(s))),
        ([s, a]) => {
          const normal = JsonType.validate(a, s);
          expect(JsonType.normalize(normal)).toEqual(normal);
          expect(JsonType.apply(s, normal)).toEqual(JsonType.apply(s, a));
        },
      ),
      RUNS,
    );
  });

  it("diff turns one document into the other, and edits concurrent to it survive where it left them alone", () => {
    fc.assert(
      fc.property(rootDoc, rootDoc, (from, to) => {
        expect(JsonType.apply(from, JsonType.diff(from, to))).toEqual(to);
        expect(JsonType.diff(from, from)).toBeNull();
      }),
      RUNS,
    );
    // A string edited on both sides keeps both edits.
    const base = { title: "hello", items: [1, 2] };
    const remote = JsonType.diff(base, { title: "hello world", items: [1, 2, 3] });
    const local = JsonType.transform(["title", { es: [">> "] }], remote, "right");
    expect(JsonType.apply(JsonType.apply(base, remote), local)).toEqual({ title: ">> hello world", items: [1, 2, 3] });
  });

  it("size is the length of the document's JSON text (strings without escapes), also after ops", () => {
    fc.assert(
      fc.property(
        rootDoc.chain((s) => fc.tuple(fc.constant(s), opOn(s))),
        ([s, a]) => {
          expect(JsonType.size(s)).toBe(JSON.stringify(s).length);
          const after = JsonType.apply(s, a);
          expect(JsonType.size(after)).toBe(JSON.stringify(after).length);
        },
      ),
      RUNS,
    );
  });

  it("untrusted input is accepted as a valid op or refused with InvalidOpError, never anything else", () => {
    const junk = fc.oneof(fc.jsonValue(), fc.anything());
    const component = fc.dictionary(fc.constantFrom("p", "r", "d", "i", "e", "es", "ena", "et", "x", "__proto__"), junk, { maxKeys: 3 });
    const element = fc.oneof(fc.constantFrom("k", "m", 0, 1, 2, -1, 1.5, "__proto__", "toString"), component, junk);
    const op = fc.oneof(junk, fc.array(fc.oneof(element, fc.array(element, { maxLength: 4 })), { maxLength: 6 }));
    fc.assert(
      fc.property(rootDoc, op, (s, o) => {
        try {
          const valid = JsonType.validate(o, s);
          const after = JsonType.apply(s, valid);
          expect(JsonType.size(after)).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOpError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("ops made on one document are refused or fit when applied to another", () => {
    fc.assert(
      fc.property(rootDoc, rootDoc, choices, (s, other, c) => {
        const op = opFromChoices(other, c);
        try {
          JsonType.validate(op, s);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOpError);
        }
      }),
      RUNS,
    );
  });

  it("create accepts JSON documents", () => {
    fc.assert(
      fc.property(jsonDoc, (d) => {
        expect(JsonType.create(d)).toBe(d);
      }),
      { numRuns: 200 },
    );
  });
});
