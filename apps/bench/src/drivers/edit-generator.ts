/**
 * The edits every load client makes, the same for every system under test: insert a stamp
 * (`<instance>~<send time>|`) at a random position and, once the document has reached its
 * target size, delete as many characters as were inserted, so that the document keeps its
 * size and apply/transform costs stay constant over a run.
 *
 * The stamp carries the send time (`performance.timeOrigin + performance.now()`, comparable
 * across the processes of one machine) so that a receiver can measure broadcast latency
 * without a side channel, and the sender's instance so that it can tell same-instance from
 * cross-instance deliveries. Inserts are never split by a transform, so the stamp survives.
 */

/** One edit, independent of any op format: delete `deleteCount` at `position`, then insert `text` there. */
export interface Edit {
  readonly position: number;
  readonly deleteCount: number;
  readonly text: string;
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable between local processes. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

/** Build the stamp inserted by a client of `instance` at time `sentAt`. */
export function makeStamp(instance: number, sentAt: number): string {
  return `${instance}~${sentAt.toFixed(3)}|`;
}

const STAMP = /(\d+)~(\d+\.\d{3})\|/;

/** A stamp found in a received insert. */
export interface ParsedStamp {
  readonly instance: number;
  readonly sentAt: number;
}

/** Find the first stamp in `text`, or `undefined`. */
export function parseStamp(text: string): ParsedStamp | undefined {
  const m = STAMP.exec(text);
  if (m === null) return undefined;
  return { instance: Number(m[1]), sentAt: Number(m[2]) };
}

/**
 * Choose the next edit for a document of `length` characters that should stay at about
 * `targetSize` characters. `random` returns uniform numbers in [0, 1).
 */
export function nextEdit(length: number, targetSize: number, stamp: string, random: () => number): Edit {
  if (length < targetSize || length < stamp.length) {
    return { position: Math.floor(random() * (length + 1)), deleteCount: 0, text: stamp };
  }
  const position = Math.floor(random() * (length - stamp.length + 1));
  return { position, deleteCount: stamp.length, text: stamp };
}

/** A document body of `size` characters for the start of a run (plain ASCII, no stamps). */
export function initialText(size: number): string {
  const line = "The quick brown fox jumps over the lazy dog. ";
  return line.repeat(Math.ceil(size / line.length)).slice(0, size);
}
