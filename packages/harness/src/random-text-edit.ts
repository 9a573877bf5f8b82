import { pick, randomInt } from "./seeded-random.js";

/**
 * A text op as @open-ot/core's `TextOp` spells it (retain `r`, insert `i`, delete `d`), written
 * out here so that this package depends on nothing and core's own tests can use it too.
 */
export type RandomTextOp = Array<{ r: number } | { i: string } | { d: number }>;

/**
 * What {@link randomTextEdit} inserts by default: letters, an accent, a CJK character, an emoji
 * (a surrogate pair), a space and a newline.
 */
export const DEFAULT_EDIT_ALPHABET: readonly string[] = ["a", "b", "c", "é", "漢", "😀", " ", "\n"];

/** Options of {@link randomTextEdit}. */
export interface RandomTextEditOptions {
  /**
   * The text one insert inserts, drawn from the same `random`.
   * @default one to three characters of {@link DEFAULT_EDIT_ALPHABET}
   */
  insert?: (random: () => number) => string;
  /**
   * The chance that an edit of a non-empty text deletes rather than inserts.
   * @default 0.3
   */
  deleteChance?: number;
  /**
   * The chance that a delete also inserts where it deleted (a replacement, one op with both).
   * @default 0
   */
  replaceChance?: number;
  /**
   * The most code points one delete removes.
   * @default 3
   */
  maxDelete?: number;
}

/**
 * A random valid text op on `text`: an insert at a random place, or (with `deleteChance`) a
 * delete of 1 to `maxDelete` code points, possibly followed by an insert. Positions fall on
 * code-point boundaries, so an op never splits a surrogate pair (core refuses those).
 */
export function randomTextEdit(random: () => number, text: string, options: RandomTextEditOptions = {}): RandomTextOp {
  const insert = options.insert ?? defaultInsert;
  const points = Array.from(text);
  const index = randomInt(random, points.length + 1);
  if (points.length > 0 && random() < (options.deleteChance ?? 0.3)) {
    const from = Math.min(index, points.length - 1);
    const count = 1 + randomInt(random, Math.min(options.maxDelete ?? 3, points.length - from));
    const op: RandomTextOp = [{ r: utf16Length(points, 0, from) }, { d: utf16Length(points, from, from + count) }];
    const replaceChance = options.replaceChance ?? 0;
    if (replaceChance > 0 && random() < replaceChance) op.push({ i: insert(random) });
    return op;
  }
  return [{ r: utf16Length(points, 0, index) }, { i: insert(random) }];
}

function defaultInsert(random: () => number): string {
  let text = "";
  for (let n = 1 + randomInt(random, 3); n > 0; n--) text += pick(random, DEFAULT_EDIT_ALPHABET);
  return text;
}

/** The UTF-16 length of code points `[start, end)`: what a text op counts. */
function utf16Length(points: readonly string[], start: number, end: number): number {
  let length = 0;
  for (let k = start; k < end; k++) length += points[k]!.length;
  return length;
}
