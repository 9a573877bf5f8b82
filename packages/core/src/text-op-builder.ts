import { isDelete, isInsert, isRetain, type TextComponent, type TextOp } from "./text-op.js";

/**
 * Builds a text op in normal form from components appended left to right: zero-length
 * components dropped, neighbours of one kind merged, and no trailing retain.
 *
 * The order of inserts and deletes is kept as given: an insert's position is part of its
 * meaning for ties (`[{d:3},{i:"x"}]` inserts at 3, after the deleted stretch, and ties with a
 * concurrent insert there; `[{i:"x"},{d:3}]` inserts at 0), so normalising never moves an
 * insert across a delete (docs/protocol.md, "Component order").
 *
 * Never mutates a component it was given: merged components are new objects.
 */
export class TextOpBuilder {
  private components: TextComponent[] = [];
  /**
   * A retain appended but not yet written out: consecutive retains only add to it, so a run of
   * them allocates one component (or none, when nothing follows: a trailing retain is dropped).
   */
  private pendingRetain = 0;

  /** Append a retain of `n` code units. */
  retain(n: number): void {
    this.pendingRetain += n;
  }

  /** Append an insert of `text`. */
  insert(text: string): void {
    if (text.length === 0) return;
    if (this.pendingRetain > 0) {
      this.flushRetain();
      this.components.push({ i: text });
      return;
    }
    const n = this.components.length;
    const last = this.components[n - 1];
    if (last !== undefined && isInsert(last)) this.components[n - 1] = { i: last.i + text };
    else this.components.push({ i: text });
  }

  /** Append a delete of `n` code units. */
  delete(n: number): void {
    if (n === 0) return;
    if (this.pendingRetain > 0) {
      this.flushRetain();
      this.components.push({ d: n });
      return;
    }
    const last = this.components[this.components.length - 1];
    if (last !== undefined && isDelete(last)) this.components[this.components.length - 1] = { d: last.d + n };
    else this.components.push({ d: n });
  }

  /** Append any component. */
  push(c: TextComponent): void {
    if (isRetain(c)) this.retain(c.r);
    else if (isInsert(c)) this.insert(c.i);
    else this.delete(c.d);
  }

  /**
   * The op built so far, in normal form (trailing retain dropped). The builder hands its array
   * over (no copy: every caller builds one op and returns it) and starts again empty.
   */
  result(): TextOp {
    const op = this.components;
    this.components = [];
    this.pendingRetain = 0;
    return op;
  }

  /**
   * Write out the pending retain. Never merges with the last component: the pending retain
   * already holds every retain appended since the last insert or delete.
   */
  private flushRetain(): void {
    this.components.push({ r: this.pendingRetain });
    this.pendingRetain = 0;
  }
}

/**
 * The normal form of `op`, which must be well-formed (see `assertTextOp`); not checked. For
 * callers that have just checked the op, so it is not checked twice.
 */
export function normalizeWellFormed(op: readonly TextComponent[]): TextOp {
  const out = new TextOpBuilder();
  for (const c of op) out.push(c);
  return out.result();
}

/**
 * Whether the well-formed `op` (see `assertTextOp`; not checked) is in normal form, the form
 * {@link normalizeWellFormed} gives: no empty component, no two neighbours of one kind, no
 * trailing retain. Lets a caller skip normalising an op that already is.
 */
export function isNormalTextOp(op: readonly TextComponent[]): boolean {
  let previous = "";
  for (const c of op) {
    const kind = "r" in c ? "r" : "i" in c ? "i" : "d";
    if (kind === previous) return false;
    if ((kind === "i" ? (c as { i: string }).i.length : kind === "r" ? (c as { r: number }).r : (c as { d: number }).d) === 0) return false;
    previous = kind;
  }
  return previous !== "r";
}
