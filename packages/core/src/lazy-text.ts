import { assertTextOp } from "./assert-text-op.js";
import type { CodeUnits } from "./surrogates.js";
import { isInsert, isRetain, textOpLengthDelta, type TextOp } from "./text-op.js";
import { normalizeWellFormed } from "./text-op-builder.js";

/** Fewest ops kept pending before they are applied to the string (small documents). */
const MIN_PENDING_OPS = 32;
/** Most ops kept pending (huge documents): bounds the walk of {@link LazyText.charCodeAt}. */
const MAX_PENDING_OPS = 512;
/** Components per pending op allowed on average before the pending ops are applied. */
const COMPONENTS_PER_OP = 8;
/**
 * Judging an op reads the document at each of its boundaries, each read walking the pending
 * ops' components: past this product of the two, building the string first is cheaper.
 */
const MAX_JUDGING_STEPS = 1 << 16;

/** A code unit of either half of a surrogate pair. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * How many ops may stay pending on a document of `length` code units. Building the string costs
 * O(length); doing it once per `length / 8192` ops (within the bounds) keeps that share of each
 * commit roughly constant while reads through the pending ops stay short.
 */
function pendingBound(length: number): number {
  return Math.min(MAX_PENDING_OPS, Math.max(MIN_PENDING_OPS, length >> 13));
}

/**
 * A text document kept as a flat string plus the ops applied to it since, so that applying an
 * op costs what the op holds, not what the document holds.
 *
 * Why: `TextType.apply` copies the whole string, which for a 1 MB document dominated a server's
 * commit. Judging an op against a document needs only its length and the code units at the op's
 * boundaries (see `assertTextOp`); a `LazyText` answers `charCodeAt` by mapping the position back
 * through the pending ops to an inserted text or to the flat string. The pending ops are applied
 * (composed, then applied in one copy) when their number reaches a bound that grows with the
 * document, or when {@link LazyText.toString} asks for the string; the result is memoised.
 *
 * Values are immutable: `apply` returns a new `LazyText` and leaves this one as it was, so a
 * caller may keep several versions. Ops passed to `apply` are kept and must not be mutated
 * afterwards (ops are values throughout this package).
 *
 * ```ts
 * const doc = LazyText.of("hello").apply([{ r: 5 }, { i: " world" }]);
 * doc.length; // 11
 * doc.charCodeAt(6); // "w".charCodeAt(0), read from the insert
 * doc.toString(); // "hello world"
 * ```
 */
export class LazyText implements CodeUnits {
  /** The document's length in UTF-16 code units. */
  readonly length: number;
  /** The whole document, once built. */
  private flat: string | undefined;
  /** Until built: the document `op` was applied to. */
  private parent: LazyText | undefined;
  private op: TextOp | undefined;
  /** Ops and their components between this document and the nearest built one (0 once built). */
  private pendingOps: number;
  private pendingComponents: number;
  /** The op {@link LazyText.validate} last returned: known to fit this document. */
  private validated: TextOp | undefined;
  /**
   * False when the document holds no surrogate code unit (checked once on the flat string, then
   * kept up by the inserts), so no op boundary can split a pair and judging needs no reads.
   */
  private readonly surrogates: boolean;

  private constructor(length: number, flat: string | undefined, parent: LazyText | undefined, op: TextOp | undefined, surrogates: boolean) {
    this.length = length;
    this.surrogates = surrogates;
    this.flat = flat;
    this.parent = parent;
    this.op = op;
    this.pendingOps = parent === undefined || op === undefined ? 0 : parent.pendingOps + 1;
    this.pendingComponents = parent === undefined || op === undefined ? 0 : parent.pendingComponents + op.length;
  }

  /** The document `text`. */
  static of(text: string): LazyText {
    if (typeof text !== "string") throw new TypeError("LazyText.of: the document must be a string.");
    return new LazyText(text.length, text, undefined, undefined, SURROGATE.test(text));
  }

  /**
   * The code unit at the integer `index`, as `String.prototype.charCodeAt` would give it (`NaN`
   * outside `0 .. length - 1`), without building the string: O(components of the pending ops).
   */
  charCodeAt(index: number): number {
    if (!(Number.isInteger(index) && index >= 0 && index < this.length)) return NaN;
    let p = index;
    // Walk towards the flat string: at each level, `p` is a position in that level's document.
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the walk down the chain of pending ops starts here
    let node: LazyText = this;
    for (;;) {
      if (node.flat !== undefined) return node.flat.charCodeAt(p);
      const op = node.op as TextOp;
      let out = 0; // position in this level's document
      let from = 0; // the same position in the parent's document
      for (const c of op) {
        if (isRetain(c)) {
          if (p < out + c.r) break;
          out += c.r;
          from += c.r;
        } else if (isInsert(c)) {
          // Inside an insert: the code unit is in the op.
          if (p < out + c.i.length) return c.i.charCodeAt(p - out);
          out += c.i.length;
        } else {
          from += c.d;
        }
      }
      // Inside a retain or in the implicit tail: the same offset past the parent's position.
      p = from + (p - out);
      node = node.parent as LazyText;
    }
  }

  /**
   * Check untrusted input against this document and return its normal form: exactly what
   * `TextType.validate(op, this.toString())` does, refusals and messages included.
   */
  validate(op: unknown): TextOp {
    // A server validates an op, validates the result again and applies it, all against one
    // document: the normal form of an op that fits fits too (its boundaries are a subset of
    // the op's) and normalises to itself, so that op is not read through the document again.
    if (op !== undefined && op === this.validated) return op as TextOp;
    assertTextOp(op, this.forJudging(op));
    const normal = normalizeWellFormed(op);
    this.validated = normal;
    return normal;
  }

  /**
   * This document with `op` applied. Refuses (with `InvalidOpError`) exactly what
   * `TextType.apply(this.toString(), op)` refuses. Costs O(op) plus, once per bound of
   * pending ops, building the string.
   */
  apply(op: TextOp): LazyText {
    if (op === undefined || op !== this.validated) assertTextOp(op, this.forJudging(op));
    const next = new LazyText(this.length + textOpLengthDelta(op), undefined, this, op, this.surrogates || insertsSurrogate(op));
    const bound = pendingBound(next.length);
    if (next.pendingOps >= bound || next.pendingComponents > bound * COMPONENTS_PER_OP) next.build();
    return next;
  }

  /** The document as a string: built once (one copy of the document), then kept. */
  toString(): string {
    return this.build();
  }

  /**
   * The document to judge `op` against: this one, its built form when reads would cost more,
   * or, when it holds no surrogate, a stand-in that answers without reading it.
   */
  private forJudging(op: unknown): CodeUnits {
    if (this.flat !== undefined) return this.flat;
    if (!this.surrogates) return withoutSurrogates(this.length);
    const components = Array.isArray(op) ? op.length : 0;
    return components * this.pendingComponents > MAX_JUDGING_STEPS ? this.build() : this;
  }

  private build(): string {
    if (this.flat !== undefined) return this.flat;
    const ops: TextOp[] = [];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the walk down the chain of pending ops starts here
    let node: LazyText = this;
    while (node.flat === undefined) {
      ops.push(node.op as TextOp);
      node = node.parent as LazyText;
    }
    ops.reverse();
    const text = applyAll(node.flat, ops);
    this.flat = text;
    // Drop the chain: older versions stay reachable only through whoever holds them.
    this.parent = undefined;
    this.op = undefined;
    this.pendingOps = 0;
    this.pendingComponents = 0;
    return text;
  }
}

/** Whether an insert of `op` holds a surrogate code unit. */
function insertsSurrogate(op: TextOp): boolean {
  for (const c of op) if (isInsert(c) && SURROGATE.test(c.i)) return true;
  return false;
}

/** What {@link withoutSurrogates} answers for every code unit: a space, not a surrogate. */
const NOT_A_SURROGATE = 0x20;

/**
 * A stand-in for a document of `length` code units that holds no surrogate, to judge an op
 * against. `assertTextOp` reads a document's code units only to see whether an op boundary
 * splits a surrogate pair, which cannot happen in such a document, so any code unit that is not
 * a surrogate gives the same verdict; reading the real one would walk the pending ops at every
 * boundary, which made a commit's cost grow with the document (docs/decisions/028).
 */
function withoutSurrogates(length: number): CodeUnits {
  return { length, charCodeAt: () => NOT_A_SURROGATE };
}

/** A stretch `start .. end` of `text`. */
interface Piece {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/**
 * `ops` applied in turn to `base`, copying the text once: each op edits one list of pieces
 * (stretches of `base` and of inserted texts) in place, and the last list is joined. Composing
 * the ops first costs several times more (compose re-validates and re-normalises its inputs),
 * and so did rewriting the list into a new one for each op (a new array and a closure per op,
 * every piece before an edit copied across): 32 one-edit ops on 1,000 characters built in about
 * a third of the time in place.
 * The ops were judged against the documents they apply to, so they always fit.
 */
function applyAll(base: string, ops: readonly TextOp[]): string {
  const pieces: Piece[] = [{ text: base, start: 0, end: base.length }];
  for (const op of ops) {
    let index = 0; // the piece the cursor is in (pieces.length: at the end)
    let offset = 0; // code units of pieces[index] before the cursor
    for (const c of op) {
      if (isRetain(c)) {
        let n = c.r;
        while (n > 0) {
          const piece = pieceAt(pieces, index);
          const left = piece.end - piece.start - offset;
          if (n < left) {
            offset += n;
            break;
          }
          n -= left;
          index++;
          offset = 0;
        }
      } else if (isInsert(c)) {
        if (c.i.length === 0) continue;
        const inserted: Piece = { text: c.i, start: 0, end: c.i.length };
        if (offset > 0) {
          const piece = pieceAt(pieces, index);
          const cut = piece.start + offset;
          pieces.splice(index, 1, { text: piece.text, start: piece.start, end: cut }, inserted, {
            text: piece.text,
            start: cut,
            end: piece.end,
          });
          index += 2;
          offset = 0;
        } else {
          pieces.splice(index, 0, inserted);
          index++;
        }
      } else {
        let n = c.d;
        if (n === 0) continue;
        if (offset > 0) {
          // Keep what is before the cursor as a piece of its own; the rest starts at the cursor.
          const piece = pieceAt(pieces, index);
          const cut = piece.start + offset;
          pieces.splice(index, 1, { text: piece.text, start: piece.start, end: cut }, { text: piece.text, start: cut, end: piece.end });
          index++;
          offset = 0;
        }
        let whole = 0; // pieces from index on that the delete removes entirely
        while (n > 0) {
          const piece = pieceAt(pieces, index + whole);
          const size = piece.end - piece.start;
          if (n < size) {
            pieces[index + whole] = { text: piece.text, start: piece.start + n, end: piece.end };
            break;
          }
          n -= size;
          whole++;
        }
        if (whole > 0) pieces.splice(index, whole);
      }
    }
  }
  const parts: string[] = [];
  for (const piece of pieces) if (piece.end > piece.start) parts.push(piece.text.slice(piece.start, piece.end));
  return parts.join("");
}

/** `pieces[index]`, which an op that fits its document always reaches. */
function pieceAt(pieces: readonly Piece[], index: number): Piece {
  const piece = pieces[index];
  if (piece === undefined) throw new Error("LazyText: a pending op reaches past the end of its document (a bug).");
  return piece;
}
