import type { Side } from "./ot-type.js";
import { isInsert, isRetain, type TextOp } from "./text-op.js";
import { TextType } from "./text-type.js";

/**
 * Map a caret (or selection end) at `position` in a document through `op` applied to that
 * document, and return where it lands in the result.
 *
 * Text inserted before the caret moves it right; a delete around it pulls it to the start of
 * the deleted stretch. An insert exactly at the caret is a tie, decided like
 * `transform(caret, op, side)` with the caret as an empty insert:
 * - `"right"` (the default): the caret ends after the inserted text, as a remote user's
 *   typing at your caret pushes it along;
 * - `"left"`: the caret stays before the inserted text (use it for your own caret when the op
 *   is yours and already placed it).
 *
 * For a selection that should not grow when text is inserted at its edges, map its start with
 * `"right"` and its end with `"left"`.
 *
 * @param position a code-unit index, 0 to the document's length
 * @param op a text op valid on the document `position` belongs to (its shape is checked;
 *   throws `InvalidOpError` when malformed)
 * @param side which side of an insert at the caret the caret keeps (`"right"` when left out)
 * @default "right"
 * @returns the caret's index in the document after `op`
 */
export function transformCursor(position: number, op: TextOp, side: Side = "right"): number {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new RangeError(`transformCursor: position must be a non-negative integer, got ${String(position)}.`);
  }
  if (side !== "left" && side !== "right") {
    throw new TypeError(`transformCursor: side must be "left" or "right", got ${String(side)}.`);
  }
  // Normalised as transform normalises. Component order counts, as for transform: a caret
  // inside a stretch that `[{d:2},{i:"x"}]` deletes lands before "x" (the insert is at the
  // stretch's end), while `[{i:"x"},{d:2}]` puts it after "x".
  const normal = TextType.normalize(op);
  let pos = 0; // where we are in the old document
  let shift = 0; // how far the caret has moved so far
  for (const c of normal) {
    if (pos > position) break;
    if (isInsert(c)) {
      if (pos < position || side === "right") shift += c.i.length;
    } else if (isRetain(c)) {
      pos += c.r;
    } else {
      // Only the part of the delete before the caret moves it.
      shift -= Math.min(c.d, position - pos);
      pos += c.d;
    }
  }
  return position + shift;
}
