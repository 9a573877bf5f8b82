import { assertTextOp } from "./assert-text-op.js";
import type { OTType, Side } from "./ot-type.js";
import { isDelete, isInsert, isRetain, type TextOp } from "./text-op.js";
import { TextOpBuilder } from "./text-op-builder.js";
import { TextOpReader } from "./text-op-reader.js";

/** Check an op's shape and return its normal form (see {@link TextType.normalize}). */
function normalizeChecked(op: unknown): TextOp {
  assertTextOp(op);
  const out = new TextOpBuilder();
  for (const c of op) out.push(c);
  return out.result();
}

function checkSide(side: unknown): asserts side is Side {
  if (side !== "left" && side !== "right") {
    throw new TypeError(`TextType.transform: side must be "left" or "right", got ${String(side)}.`);
  }
}

function create(initial?: string): string {
  if (initial === undefined) return "";
  if (typeof initial !== "string") throw new TypeError("TextType.create: the initial document must be a string.");
  return initial;
}

function apply(doc: string, op: TextOp): string {
  if (typeof doc !== "string") throw new TypeError("TextType.apply: the document must be a string.");
  assertTextOp(op, doc);
  // Collect slices and join once: repeated concatenation would copy the document per component.
  const parts: string[] = [];
  let pos = 0;
  for (const c of op) {
    if (isRetain(c)) {
      parts.push(doc.slice(pos, pos + c.r));
      pos += c.r;
    } else if (isInsert(c)) {
      parts.push(c.i);
    } else {
      pos += c.d;
    }
  }
  parts.push(doc.slice(pos));
  return parts.join("");
}

function transform(op: TextOp, other: TextOp, side: Side): TextOp {
  checkSide(side);
  const a = normalizeChecked(op);
  const b = normalizeChecked(other);
  const out = new TextOpBuilder();
  const reader = new TextOpReader(a);
  for (const c of b) {
    if (isRetain(c)) {
      // Copy `a` across the stretch `b` keeps; `a`'s inserts do not use up the stretch.
      let n = c.r;
      while (n > 0) {
        const piece = reader.take(n, "i");
        out.push(piece);
        if (!isInsert(piece)) n -= isRetain(piece) ? piece.r : piece.d;
      }
    } else if (isInsert(c)) {
      // A tie: both insert here. On the left, `a`'s insert goes first.
      if (side === "left" && reader.peekKind() === "i") out.push(reader.take(Infinity, "i"));
      out.retain(c.i.length);
    } else {
      // `b` deleted this stretch: `a`'s inserts inside it survive, its retains and deletes of
      // the stretch have nothing left to act on.
      let n = c.d;
      while (n > 0) {
        const piece = reader.take(n, "i");
        if (isInsert(piece)) out.push(piece);
        else n -= isRetain(piece) ? piece.r : piece.d;
      }
    }
  }
  while (!reader.done()) out.push(reader.take(Infinity, "i"));
  return out.result();
}

function compose(first: TextOp, second: TextOp): TextOp {
  const a = normalizeChecked(first);
  const b = normalizeChecked(second);
  const out = new TextOpBuilder();
  const reader = new TextOpReader(a);
  for (const c of b) {
    if (isRetain(c)) {
      // `b` keeps this stretch of `a`'s result: copy `a` over it; `a`'s deletes are not in it.
      let n = c.r;
      while (n > 0) {
        const piece = reader.take(n, "d");
        out.push(piece);
        if (!isDelete(piece)) n -= isRetain(piece) ? piece.r : piece.i.length;
      }
    } else if (isInsert(c)) {
      out.insert(c.i);
    } else {
      // `b` deletes this stretch of `a`'s result: text `a` inserted vanishes, text `a` kept
      // is deleted, and `a`'s own deletes stay.
      let n = c.d;
      while (n > 0) {
        const piece = reader.take(n, "d");
        if (isDelete(piece)) {
          out.push(piece);
        } else if (isRetain(piece)) {
          out.delete(piece.r);
          n -= piece.r;
        } else {
          n -= piece.i.length;
        }
      }
    }
  }
  while (!reader.done()) out.push(reader.take(Infinity, "d"));
  return out.result();
}

function invert(op: TextOp, doc?: string): TextOp {
  assertTextOp(op, doc);
  const out = new TextOpBuilder();
  let pos = 0;
  for (const c of op) {
    if (isRetain(c)) {
      out.retain(c.r);
      pos += c.r;
    } else if (isInsert(c)) {
      out.delete(c.i.length);
    } else if (c.d > 0) {
      // Deletes carry only a count: the removed text must come from the document.
      if (doc === undefined) {
        throw new TypeError(
          "TextType.invert: the op deletes text, so pass the document it was applied to as the second argument.",
        );
      }
      out.insert(doc.slice(pos, pos + c.d));
      pos += c.d;
    }
  }
  return out.result();
}

function normalize(op: TextOp): TextOp {
  return normalizeChecked(op);
}

function validate(op: unknown, doc?: string): TextOp {
  assertTextOp(op, doc);
  return normalizeChecked(op);
}

/**
 * The plain-text OT type (`docType: "text"`): documents are strings, ops are arrays of
 * `{r: n}`, `{i: "text"}` and `{d: n}` counted in UTF-16 code units (see {@link TextOp}).
 *
 * - `apply(doc, op)` refuses (with {@link InvalidOpError}) everything `validate(op, doc)` refuses.
 * - `transform(a, b, side)`: `a` rewritten to apply after `b`; at an insert tie, `"left"` puts
 *   `a`'s insert first. Both ops are normalised first, so ties do not depend on how an op was
 *   spelled.
 * - `compose(a, b)`: one op doing `a` then `b`.
 * - `invert(op, doc)`: undoes `op`; `doc` (the document `op` was applied to) is required when
 *   `op` deletes anything.
 * - `normalize(op)`: zero counts and empty inserts dropped, neighbours merged, insert before
 *   delete at one position, no trailing retain. `[]` is the no-op.
 * - `validate(op, doc?)`: checks untrusted input and returns its normal form.
 *
 * Every function treats its input ops as immutable, and throws {@link InvalidOpError} on
 * malformed ones. Transform and compose run in time linear in the number of components.
 */
export const TextType: OTType<string, TextOp> & {
  invert(op: TextOp, doc?: string): TextOp;
  normalize(op: TextOp): TextOp;
  validate(op: unknown, doc?: string): TextOp;
} = {
  name: "text",
  create,
  apply,
  transform,
  compose,
  invert,
  normalize,
  validate,
};
