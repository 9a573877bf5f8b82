import { assertTextOp } from "./assert-text-op.js";
import type { OTType, Side } from "./ot-type.js";
import { isDelete, isInsert, isRetain, type TextComponent, type TextOp } from "./text-op.js";
import { TextOpBuilder, normalizeWellFormed } from "./text-op-builder.js";
import { TextOpReader } from "./text-op-reader.js";
import { transformCursor } from "./transform-cursor.js";

/** Check an op's shape and return its normal form (see {@link TextType.normalize}). */
function normalizeChecked(op: unknown): TextOp {
  assertTextOp(op);
  return normalizeWellFormed(op);
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
  return transformNormalTextOp(normalizeChecked(op), normalizeChecked(other), side);
}

/**
 * `TextType.transform(op, other, side)` for ops already in normal form, without checking them:
 * for callers that validated or built the ops themselves (a server transforming a validated op
 * over its own committed history). Gives exactly what `TextType.transform` gives for such ops;
 * on anything else (malformed ops, ops not in normal form, a bad `side`) the result is
 * unspecified. Never mutates its inputs; linear in the number of components.
 */
export function transformNormalTextOp(op: readonly TextComponent[], other: readonly TextComponent[], side: Side): TextOp {
  const out = new TextOpBuilder();
  const n = op.length;
  let index = 0; // the component of `op` being read
  let used = 0; // code units of it already read (inserts are always read whole)
  for (const c of other) {
    if (isInsert(c)) {
      // A tie: both insert here. On the left, `op`'s insert goes first.
      const next = op[index];
      if (side === "left" && next !== undefined && isInsert(next)) {
        out.insert(next.i);
        index++;
      }
      out.retain(c.i.length);
      continue;
    }
    // `other` keeps (retain) or removes (delete) a stretch: copy `op` across it, with `op`'s
    // inserts inside it kept and not using up the stretch. Over a deleted stretch, `op`'s
    // retains and deletes have nothing left to act on.
    const kept = isRetain(c);
    let left = kept ? c.r : c.d;
    while (left > 0) {
      const x = op[index];
      if (x === undefined) {
        // Past `op`'s last component: its implicit retain of the tail.
        if (kept) out.retain(left);
        break;
      }
      if (isInsert(x)) {
        out.insert(x.i);
        index++;
        continue;
      }
      const retain = isRetain(x);
      const rest = (retain ? x.r : x.d) - used;
      const k = rest < left ? rest : left;
      if (kept) {
        if (retain) out.retain(k);
        else out.delete(k);
      }
      left -= k;
      if (k === rest) {
        index++;
        used = 0;
      } else {
        used += k;
      }
    }
  }
  for (; index < n; index++) {
    const x = op[index] as TextComponent;
    if (isInsert(x)) out.insert(x.i);
    else if (isRetain(x)) out.retain(x.r - used);
    else out.delete(x.d - used);
    used = 0;
  }
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
      // `a`'s deletes at this point come first: `b` inserts after them, as it saw the document.
      while (reader.peekKind() === "d") out.push(reader.take(Infinity, "d"));
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
        throw new TypeError("TextType.invert: the op deletes text, so pass the document it was applied to as the second argument.");
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
  return normalizeWellFormed(op);
}

/**
 * The plain-text OT type (`docType: "text"`): documents are strings, ops are arrays of
 * `{r: n}`, `{i: "text"}` and `{d: n}` counted in UTF-16 code units (see {@link TextOp}).
 *
 * - `apply(doc, op)` refuses (with {@link InvalidOpError}) everything `validate(op, doc)` refuses.
 * - `transform(a, b, side)`: `a` rewritten to apply after `b`; at an insert tie (both insert at
 *   one position of the document they share), `"left"` puts `a`'s insert first. An insert's
 *   position follows from the components before it, so `[{d:3},{i:"x"}]` (insert at 3) and
 *   `[{i:"x"},{d:3}]` (insert at 0) tie differently (docs/protocol.md, "Component order").
 * - `compose(a, b)`: one op doing `a` then `b`; where `b` inserts at a point where `a` deletes,
 *   `a`'s delete comes first (`compose([{d:5}], [{i:"W"}])` is `[{d:5},{i:"W"}]`).
 * - `invert(op, doc)`: undoes `op`; `doc` (the document `op` was applied to) is required when
 *   `op` deletes anything.
 * - `normalize(op)`: zero counts and empty inserts dropped, neighbours of one kind merged, no
 *   trailing retain; the order of inserts and deletes is kept. `[]` is the no-op.
 * - `validate(op, doc?)`: checks untrusted input and returns its normal form.
 *
 * Every function treats its input ops as immutable, and throws {@link InvalidOpError} on
 * malformed ones. Transform and compose run in time linear in the number of components.
 */
export const TextType: OTType<string, TextOp> & {
  invert(op: TextOp, doc?: string): TextOp;
  normalize(op: TextOp): TextOp;
  validate(op: unknown, doc?: string): TextOp;
  transformCursor(position: number, op: TextOp, side?: Side): number;
} = {
  name: "text",
  create,
  apply,
  transform,
  compose,
  invert,
  normalize,
  validate,
  size: (doc: string) => doc.length,
  // A function declaration, so the import cycle with transform-cursor.ts is harmless.
  transformCursor,
};
