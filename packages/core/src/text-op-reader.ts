import { InvalidOpError } from "./ot-type.js";
import { splitsSurrogatePair } from "./surrogates.js";
import { componentLength, isDelete, isInsert, isRetain, type TextComponent } from "./text-op.js";

/** Kind of a text op component: retain, insert or delete. */
export type ComponentKind = "r" | "i" | "d";

/**
 * Reads a normalised text op a piece at a time, as transform and compose consume it: a
 * component may be taken in parts, and after the last component the reader yields the
 * implicit retain of the document's tail for ever.
 */
export class TextOpReader {
  private index = 0;
  /** Code units of the current component already taken. */
  private offset = 0;

  constructor(private readonly op: readonly TextComponent[]) {}

  /** True when every explicit component has been taken. */
  done(): boolean {
    return this.index >= this.op.length;
  }

  /** The kind of the next piece (`"r"` for the implicit tail). */
  peekKind(): ComponentKind {
    const c = this.op[this.index];
    if (c === undefined || isRetain(c)) return "r";
    return isInsert(c) ? "i" : "d";
  }

  /**
   * Take at most `max` code units of the current component. A component of kind `whole` is
   * taken entirely whatever `max` is: transform passes `"i"` (the op's inserts do not consume
   * the other op's document), compose passes `"d"` (the first op's deletes do not consume the
   * second op's document).
   *
   * Splitting an insert in the middle of a surrogate pair throws {@link InvalidOpError}: it
   * only happens when compose's second op cuts into text the first op inserted.
   */
  take(max: number, whole: ComponentKind): TextComponent {
    const c = this.op[this.index];
    if (c === undefined) return { r: max };
    const length = componentLength(c);
    const kind: ComponentKind = isRetain(c) ? "r" : isInsert(c) ? "i" : "d";
    const n = kind === whole ? length - this.offset : Math.min(max, length - this.offset);
    const start = this.offset;
    if (start + n === length) {
      this.index++;
      this.offset = 0;
    } else {
      this.offset += n;
    }
    if (isInsert(c)) {
      if ((start > 0 && splitsSurrogatePair(c.i, start)) || splitsSurrogatePair(c.i, start + n)) {
        throw new InvalidOpError(
          "The ops do not fit together: the second op's boundary falls between the two halves of a surrogate pair inserted by the first.",
        );
      }
      return start === 0 && n === length ? c : { i: c.i.slice(start, start + n) };
    }
    return isDelete(c) ? { d: n } : { r: n };
  }
}
