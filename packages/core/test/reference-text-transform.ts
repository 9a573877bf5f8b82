// Test support: the text transform as it was written before the unchecked fast path
// (`transformNormalTextOp`), reading ops a piece at a time through TextOpReader. A reference
// the property tests compare the fast path with, so the two are written independently.
import type { Side } from "../src/ot-type.js";
import { isInsert, isRetain, type TextOp } from "../src/text-op.js";
import { TextOpBuilder } from "../src/text-op-builder.js";
import { TextOpReader } from "../src/text-op-reader.js";
import { TextType } from "../src/text-type.js";

/** `a` rewritten to apply after the concurrent `b` (both normalised first), as TextType.transform documents. */
export function referenceTransform(op: TextOp, other: TextOp, side: Side): TextOp {
  const a = TextType.normalize(op);
  const b = TextType.normalize(other);
  const out = new TextOpBuilder();
  const reader = new TextOpReader(a);
  for (const c of b) {
    if (isRetain(c)) {
      let n = c.r;
      while (n > 0) {
        const piece = reader.take(n, "i");
        out.push(piece);
        if (!isInsert(piece)) n -= isRetain(piece) ? piece.r : piece.d;
      }
    } else if (isInsert(c)) {
      if (side === "left" && reader.peekKind() === "i") out.push(reader.take(Infinity, "i"));
      out.retain(c.i.length);
    } else {
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
