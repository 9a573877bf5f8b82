/** Keep the next `r` code units of the document unchanged. */
export interface RetainComponent {
  r: number;
}

/** Insert the string `i` at the current position. */
export interface InsertComponent {
  i: string;
}

/** Remove the next `d` code units of the document. */
export interface DeleteComponent {
  d: number;
}

/**
 * One component of a text op: retain `r` code units, insert `i`, or delete `d` code units.
 * Counts are UTF-16 code units, as JavaScript string indices are.
 */
export type TextComponent = RetainComponent | InsertComponent | DeleteComponent;

/**
 * A text op: components applied left to right from position 0; the tail of the document after
 * the last component is retained implicitly. Ops are values: no function of this package ever
 * mutates one it was given.
 */
export type TextOp = TextComponent[];

/** True when `c` is a retain component. */
export function isRetain(c: TextComponent): c is RetainComponent {
  return "r" in c;
}

/** True when `c` is an insert component. */
export function isInsert(c: TextComponent): c is InsertComponent {
  return "i" in c;
}

/** True when `c` is a delete component. */
export function isDelete(c: TextComponent): c is DeleteComponent {
  return "d" in c;
}

/** The number of code units a component covers: its count, or its inserted text's length. */
export function componentLength(c: TextComponent): number {
  return isInsert(c) ? c.i.length : isRetain(c) ? c.r : c.d;
}

/**
 * How much `op` changes the document's length, in code units: inserted minus deleted.
 * The op is not validated.
 */
export function textOpLengthDelta(op: readonly TextComponent[]): number {
  let delta = 0;
  for (const c of op) {
    if (isInsert(c)) delta += c.i.length;
    else if (isDelete(c)) delta -= c.d;
  }
  return delta;
}

/**
 * How many code units of the document `op` consumes explicitly: the sum of its retains and
 * deletes. A document must be at least this long for the op to apply. The op is not validated.
 */
export function textOpReach(op: readonly TextComponent[]): number {
  let reach = 0;
  for (const c of op) {
    if (isRetain(c)) reach += c.r;
    else if (isDelete(c)) reach += c.d;
  }
  return reach;
}

/**
 * True when `op` changes nothing: it holds only retains, zero counts and empty inserts
 * (it normalises to `[]`). The op is not validated.
 */
export function isNoop(op: readonly TextComponent[]): boolean {
  for (const c of op) {
    if (isInsert(c) ? c.i.length > 0 : isDelete(c) && c.d > 0) return false;
  }
  return true;
}
