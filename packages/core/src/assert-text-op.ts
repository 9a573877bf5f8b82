import { describeValue as describe } from "./message-fields.js";
import { InvalidOpError } from "./ot-type.js";
import { findLoneSurrogate, splitsSurrogatePair, type CodeUnits } from "./surrogates.js";
import type { TextOp } from "./text-op.js";

const KIND_NAME = { r: "retain", i: "insert", d: "delete" } as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Check that `op` is a well-formed text op and, when `doc` is given, that it fits that
 * document. Throws an {@link InvalidOpError} whose message names the offending component.
 *
 * One pass over the components; the only per-character work is the lone-surrogate scan of
 * inserted text. The split-pair check looks at the document only at component boundaries:
 * every position where a retain or delete ends (an insert starts where the previous component
 * ended, so that covers inserts too). Boundaries are judged on the op as sent, so
 * `[{d:1},{d:1}]` across one pair is refused even though it would merge into `{d:2}`: no
 * editor produces such an op, and refusing it keeps the rule simple to state.
 *
 * `doc` is read only through `length` and `charCodeAt` at those boundaries, so a
 * {@link LazyText} is judged exactly as its string would be, without building the string.
 */
export function assertTextOp(op: unknown, doc?: CodeUnits): asserts op is TextOp {
  if (!Array.isArray(op)) {
    throw new InvalidOpError(`A text op must be an array of {r: n}, {i: "text"} or {d: n} components, got ${describe(op)}.`);
  }
  let pos = 0;
  for (let index = 0; index < op.length; index++) {
    const c: unknown = op[index];
    if (!isPlainObject(c)) {
      throw new InvalidOpError(`Text op component ${index} must be an object {r: n}, {i: "text"} or {d: n}, got ${describe(c)}.`);
    }
    const keys = Object.keys(c);
    const key = keys[0];
    if (keys.length !== 1 || (key !== "r" && key !== "i" && key !== "d")) {
      throw new InvalidOpError(
        `Text op component ${index} must have exactly one key, r, i or d; it has ${keys.length === 0 ? "none" : keys.map((k) => JSON.stringify(k)).join(", ")}.`,
      );
    }
    const value = c[key];
    if (key === "i") {
      if (typeof value !== "string") {
        throw new InvalidOpError(`Text op component ${index}: an insert's i must be a string, got ${describe(value)}.`);
      }
      const lone = findLoneSurrogate(value);
      if (lone !== -1) {
        throw new InvalidOpError(
          `Text op component ${index}: the insert holds a lone surrogate at index ${lone} (U+${value.charCodeAt(lone).toString(16).toUpperCase()}); insert whole surrogate pairs only.`,
        );
      }
      continue;
    }
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new InvalidOpError(
        `Text op component ${index}: a ${KIND_NAME[key]} count must be a non-negative integer, got ${describe(value)}.`,
      );
    }
    if (doc === undefined || value === 0) continue;
    pos += value;
    if (pos > doc.length) {
      throw new InvalidOpError(
        `Text op component ${index} ({${key}: ${value}}) reaches code unit ${pos}, past the end of the document (length ${doc.length}).`,
      );
    }
    if (splitsSurrogatePair(doc, pos)) {
      throw new InvalidOpError(
        `Text op component ${index} ({${key}: ${value}}) ends at code unit ${pos}, between the two halves of a surrogate pair; end it at ${pos - 1} or ${pos + 1}.`,
      );
    }
  }
}
