import { diffText } from "@open-ot/core";
import { editOp, insertOp, removeOp, replaceOp, type as json1, type Doc, type JSONOp, type Key } from "ot-json1";
import { isPlainObject } from "./check-json-op.js";

/**
 * An ot-json1 op that turns `from` into `to`, edit by edit: changed keys of objects, changed
 * items of arrays (after their common prefix and suffix), and string changes as text edits, so
 * that an op transformed against it keeps its own changes to the parts the diff leaves alone.
 * Anything else that differs is replaced whole. Removes carry the removed value (the op can be
 * inverted). `null` when the two are equal.
 */
export function diffJson(from: Doc, to: Doc): JSONOp {
  const steps: JSONOp[] = [];
  collect(from, to, [], steps);
  return steps.reduce<JSONOp>((op, step) => json1.compose(op, step), null);
}

function collect(from: Doc, to: Doc, path: Key[], steps: JSONOp[]): void {
  if (from === to) return;
  if (typeof from === "string" && typeof to === "string") {
    steps.push(editOp(path, "text-unicode", textUnicodeEdit(from, to)));
    return;
  }
  if (isPlainObject(from) && isPlainObject(to)) {
    const a = from as Record<string, Doc>;
    const b = to as Record<string, Doc>;
    for (const key of Object.keys(a)) {
      if (!Object.hasOwn(b, key)) steps.push(removeWithValue([...path, key], a[key] as Doc));
      else collect(a[key] as Doc, b[key] as Doc, [...path, key], steps);
    }
    for (const key of Object.keys(b)) {
      if (!Object.hasOwn(a, key)) steps.push(insertOp([...path, key], b[key] as Doc));
    }
    return;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    let prefix = 0;
    while (prefix < from.length && prefix < to.length && equal(from[prefix] as Doc, to[prefix] as Doc)) prefix++;
    let suffix = 0;
    while (
      suffix < from.length - prefix &&
      suffix < to.length - prefix &&
      equal(from[from.length - 1 - suffix] as Doc, to[to.length - 1 - suffix] as Doc)
    ) {
      suffix++;
    }
    const oldCount = from.length - prefix - suffix;
    const newCount = to.length - prefix - suffix;
    const paired = Math.min(oldCount, newCount);
    for (let k = 0; k < paired; k++) collect(from[prefix + k] as Doc, to[prefix + k] as Doc, [...path, prefix + k], steps);
    // Each remove shifts the rest down, so the surplus is removed at one index.
    for (let k = paired; k < oldCount; k++) steps.push(removeWithValue([...path, prefix + paired], from[prefix + k] as Doc));
    for (let k = paired; k < newCount; k++) steps.push(insertOp([...path, prefix + k], to[prefix + k] as Doc));
    return;
  }
  if (equal(from, to)) return;
  steps.push(replaceOp(path, from, to));
}

/** An ot-text-unicode op (counts in code points) from core's UTF-16 `diffText`. */
function textUnicodeEdit(from: string, to: string): (number | string | { d: string })[] {
  const op: (number | string | { d: string })[] = [];
  let pos = 0;
  for (const c of diffText(from, to)) {
    if ("r" in c) {
      op.push(codePoints(from, pos, pos + c.r));
      pos += c.r;
    } else if ("d" in c) {
      op.push({ d: from.slice(pos, pos + c.d) });
      pos += c.d;
    } else {
      op.push(c.i);
    }
  }
  return op;
}

function codePoints(s: string, start: number, end: number): number {
  let n = 0;
  for (let k = start; k < end; k++) {
    const code = s.charCodeAt(k);
    if (code >= 0xd800 && code <= 0xdbff && k + 1 < end) k++;
    n++;
  }
  return n;
}

function equal(a: Doc, b: Doc): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, k) => equal(item, b[k] as Doc));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k] as Doc, b[k] as Doc));
  }
  return false;
}

/** `removeOp` carrying the removed value (ot-json1 types that argument as a boolean only). */
function removeWithValue(path: Key[], value: Doc): JSONOp {
  return removeOp(path, value as unknown as boolean);
}
