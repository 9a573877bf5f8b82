// Random JSON documents and random valid ot-json1 ops on them, built from a list of random
// choices so that fast-check can shrink them. Ops are compositions of the builders an app
// uses: insert, remove, replace, move, string edits and number edits.
import fc from "fast-check";
import { editOp, insertOp, moveOp, removeOp, replaceOp, type Doc, type JSONOp, type Key } from "ot-json1";
import { JsonType } from "../src/index.js";

const WORDS = ["a", "b", "xy", "é", "😀", " ", "zz"];

export const jsonDoc: fc.Arbitrary<Doc> = fc.letrec<{ value: Doc; leaf: Doc }>((tie) => ({
  leaf: fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -50, max: 50 }), fc.constantFrom(...WORDS)),
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("leaf"),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom("k", "m", "n", "p", "q"), tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** Root documents are containers, as apps use them (a root primitive admits only replaces). */
export const rootDoc: fc.Arbitrary<Doc> = fc.oneof(
  fc.array(jsonDoc, { maxLength: 5 }),
  fc.dictionary(fc.constantFrom("k", "m", "n", "p", "q"), jsonDoc, { maxKeys: 5 }),
);

interface Place {
  readonly path: Key[];
  readonly value: Doc;
}

/** Every place in `doc` below the root. */
function places(doc: Doc, path: Key[] = [], out: Place[] = []): Place[] {
  if (Array.isArray(doc)) {
    doc.forEach((child, k) => {
      out.push({ path: [...path, k], value: child });
      places(child, [...path, k], out);
    });
  } else if (doc !== null && typeof doc === "object") {
    for (const [key, child] of Object.entries(doc)) {
      out.push({ path: [...path, key], value: child });
      places(child, [...path, key], out);
    }
  }
  return out;
}

/** Places where a new value can go: any index up to an array's length, a fresh key of an object. */
function slots(doc: Doc, path: Key[] = [], out: Key[][] = []): Key[][] {
  if (Array.isArray(doc)) {
    for (let k = 0; k <= doc.length; k++) out.push([...path, k]);
    doc.forEach((child, k) => slots(child, [...path, k], out));
  } else if (doc !== null && typeof doc === "object") {
    const fresh = ["k", "m", "n", "p", "q", "r"].find((key) => !Object.hasOwn(doc, key));
    if (fresh !== undefined) out.push([...path, fresh]);
    for (const [key, child] of Object.entries(doc)) slots(child, [...path, key], out);
  }
  return out;
}

const isPrefix = (a: Key[], b: Key[]) => a.length <= b.length && a.every((k, i) => b[i] === k);

function pickOne<T>(items: readonly T[], choice: number): T {
  return items[choice % items.length] as T;
}

function codePoints(s: string): number {
  return Array.from(s).length;
}

/** One simple op on `doc` from a few choices; `null` when the doc offers nothing for that kind. */
function simpleOp(doc: Doc, c: readonly number[]): JSONOp {
  const [kind = 0, a = 0, b = 0, d = 0] = c;
  const all = places(doc);
  switch (kind % 6) {
    case 0: {
      const at = slots(doc);
      if (at.length === 0) return null;
      return insertOp(pickOne(at, a), pickOne(WORDS, b) + String(d % 10));
    }
    case 1:
      return all.length === 0 ? null : removeOp(pickOne(all, a).path);
    case 2: {
      if (all.length === 0) return null;
      const place = pickOne(all, a);
      return replaceOp(place.path, place.value, d % 2 === 0 ? [d % 7] : { n: pickOne(WORDS, b) });
    }
    case 3: {
      if (all.length === 0) return null;
      const from = pickOne(all, a).path;
      // Into a slot of the document without the moved value, and not inside itself.
      const without = JsonType.apply(doc, removeOp(from));
      const targets = slots(without).filter((to) => !isPrefix(from, to));
      return targets.length === 0 ? null : moveOp(from, pickOne(targets, b));
    }
    case 4: {
      const strings = all.filter((p) => typeof p.value === "string");
      if (strings.length === 0) return null;
      const place = pickOne(strings, a);
      const text = place.value as string;
      const length = codePoints(text);
      const at = b % (length + 1);
      const del = Math.min(d % 3, length - at);
      const sub: (number | string | { d: number })[] = [];
      if (at > 0) sub.push(at);
      if (d % 2 === 0) sub.push(pickOne(WORDS, d));
      if (del > 0) sub.push({ d: del });
      return sub.length === 0 || (sub.length === 1 && typeof sub[0] === "number") ? null : editOp(place.path, "text-unicode", sub);
    }
    default: {
      const numbers = all.filter((p) => typeof p.value === "number");
      if (numbers.length === 0) return null;
      return editOp(pickOne(numbers, a).path, "number", (b % 9) - 4);
    }
  }
}

/** An op on `doc`: one to three simple ops, each made on the result of the ones before, composed. */
export function opFromChoices(doc: Doc, choices: readonly number[][]): JSONOp {
  let op: JSONOp = null;
  let current = doc;
  for (const c of choices) {
    const next = simpleOp(current, c);
    if (next === null) continue;
    current = JsonType.apply(current, next);
    op = JsonType.compose(op, next);
  }
  return op;
}

export const choices = fc.array(fc.array(fc.nat({ max: 1000 }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 3 });

export const opOn = (doc: Doc): fc.Arbitrary<JSONOp> => choices.map((c) => opFromChoices(doc, c));
