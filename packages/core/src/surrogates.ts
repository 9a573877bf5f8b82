// Surrogate-pair helpers shared by the text type's validation, compose and diff.

/** True for a UTF-16 high (leading) surrogate code unit. */
export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** True for a UTF-16 low (trailing) surrogate code unit. */
export function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Read access to a sequence of UTF-16 code units. A string is one; so is a {@link LazyText},
 * which answers without building the whole document.
 */
export interface CodeUnits {
  /** The number of code units. */
  readonly length: number;
  /** The code unit at `index` (`0 <= index < length`). */
  charCodeAt(index: number): number;
}

/** True when index `pos` of `text` falls between the two halves of a surrogate pair. */
export function splitsSurrogatePair(text: CodeUnits, pos: number): boolean {
  return pos > 0 && pos < text.length && isHighSurrogate(text.charCodeAt(pos - 1)) && isLowSurrogate(text.charCodeAt(pos));
}

// Without the `u` flag a regular expression works on code units, which is what we want here:
// a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The index of the first lone surrogate in `text`, or -1 when it is well-formed UTF-16. */
export function findLoneSurrogate(text: string): number {
  const match = LONE_SURROGATE.exec(text);
  return match === null ? -1 : match.index;
}
