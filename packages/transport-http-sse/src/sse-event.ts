/** One Server-Sent Event, as written on a `text/event-stream` response. */
export interface SseEvent {
  /** The event name (`event:` line); leave out for the default `message` event. */
  readonly event?: string;
  /** The event id (`id:` line); an EventSource sends the last one back as `Last-Event-ID`. */
  readonly id?: string | number;
  /** The payload; each line of it becomes one `data:` line. */
  readonly data: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Encode one event in the `text/event-stream` format.
 *
 * A payload holding line breaks is split over several `data:` lines, which the receiving
 * EventSource joins back with `\n`. JSON from `JSON.stringify` never holds a raw line break, but
 * the split keeps any other payload from ending the event early or injecting fields.
 */
export function formatSseEvent(event: SseEvent): string {
  let out = "";
  if (event.event !== undefined) out += `event: ${singleLine(event.event, "event")}\n`;
  if (event.id !== undefined) out += `id: ${singleLine(String(event.id), "id")}\n`;
  for (const line of event.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return out + "\n";
}

/**
 * Encode a comment line: ignored by every EventSource, but it moves bytes through proxies that
 * close idle streams.
 */
export function formatSseComment(text: string): string {
  return `: ${singleLine(text, "comment")}\n\n`;
}

function singleLine(value: string, field: string): string {
  // A line break (or NUL in an id, which the spec makes the whole id be ignored) would let the
  // value forge further fields; it is a programming error, never data from a client.
  if (LINE_BREAK.test(value) || value.includes("\0")) {
    throw new TypeError(`An SSE ${field} must be one line without NUL characters; got ${JSON.stringify(value)}.`);
  }
  return value;
}
