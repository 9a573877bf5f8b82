import { isHighSurrogate, isLowSurrogate } from "./surrogates.js";
import type { TextOp } from "./text-op.js";

/**
 * The smallest single-replacement text op turning `from` into `to`: keep their common prefix
 * and suffix, delete what lies between in `from` and insert what lies between in `to`.
 *
 * Useful to turn an editor's new value into an op. The prefix and suffix are shortened by one
 * code unit where they would end inside a surrogate pair, so the op never splits one and its
 * insert is well-formed whenever `to` is. Runs in time linear in the strings' length.
 *
 * @returns a normalised op (`[]` when the strings are equal)
 */
export function diffText(from: string, to: string): TextOp {
  if (from === to) return [];
  const max = Math.min(from.length, to.length);
  let prefix = 0;
  while (prefix < max && from.charCodeAt(prefix) === to.charCodeAt(prefix)) prefix++;
  if (prefix > 0 && isHighSurrogate(from.charCodeAt(prefix - 1))) prefix--;

  let suffix = 0;
  const maxSuffix = max - prefix;
  while (suffix < maxSuffix && from.charCodeAt(from.length - 1 - suffix) === to.charCodeAt(to.length - 1 - suffix)) {
    suffix++;
  }
  if (suffix > 0 && isLowSurrogate(from.charCodeAt(from.length - suffix))) suffix--;

  const op: TextOp = [];
  if (prefix > 0) op.push({ r: prefix });
  const inserted = to.slice(prefix, to.length - suffix);
  if (inserted.length > 0) op.push({ i: inserted });
  const deleted = from.length - prefix - suffix;
  if (deleted > 0) op.push({ d: deleted });
  return op;
}
