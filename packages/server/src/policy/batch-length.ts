/**
 * How many elements a frame or body holds if it is a JSON array (1 if it is anything else),
 * read in one pass without parsing it, and without counting further once the count passes
 * `stopAbove`. A binding calls it before `JSON.parse`, so that a 1 MiB batch of half a million
 * elements is refused for its size without building half a million values first. On malformed
 * JSON the count is approximate; the parser refuses such input anyway.
 */
export function batchLength(data: string | Uint8Array, stopAbove: number): number {
  const text = typeof data === "string";
  const length = data.length;
  const at = (i: number): number => (text ? data.charCodeAt(i) : data[i]!);
  let i = 0;
  while (i < length && isSpace(at(i))) i++;
  if (i >= length || at(i) !== 0x5b /* [ */) return 1;
  let depth = 0;
  let commas = 0;
  let empty = true;
  for (; i < length; i++) {
    const c = at(i);
    if (c === QUOTE) {
      // Skip the string with the native search: string contents are the bulk of a message.
      empty = false;
      i = closingQuote(data, i + 1);
      continue;
    }
    if (c === 0x5b || c === 0x7b /* { */) {
      if (depth >= 1) empty = false;
      depth++;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
      if (depth === 0) break;
    } else if (c === 0x2c /* , */) {
      if (depth === 1 && ++commas >= stopAbove) return commas + 1;
    } else if (!isSpace(c)) {
      empty = false;
    }
  }
  return empty ? 0 : commas + 1;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The index of the quote that ends the string starting at `from` (after its opening quote), or the end. */
function closingQuote(data: string | Uint8Array, from: number): number {
  let at = from;
  for (;;) {
    const quote = typeof data === "string" ? data.indexOf('"', at) : data.indexOf(QUOTE, at);
    if (quote < 0) return data.length;
    let backslashes = 0;
    for (let j = quote - 1; j >= from && (typeof data === "string" ? data.charCodeAt(j) : data[j]) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
