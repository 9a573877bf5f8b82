import type { ProtocolError } from "./protocol-error.js";

// `fatal: true` makes invalid UTF-8 an error instead of U+FFFD replacement characters, so a
// corrupted frame is refused rather than silently altered.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The result of decoding a frame: its JSON value, or why it is not JSON. */
export type DecodedFrame = { ok: true; value: unknown } | { ok: false; error: ProtocolError };

/**
 * Turn an inbound frame into a JSON value.
 *
 * - a string is JSON text;
 * - a `Uint8Array` (a Node `Buffer` included), another `ArrayBufferView` or an `ArrayBuffer`
 *   holds UTF-8 JSON text;
 * - anything else is taken as an already parsed value and returned as is.
 */
export function decodeFrame(input: unknown): DecodedFrame {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else if (ArrayBuffer.isView(input) || input instanceof ArrayBuffer) {
    try {
      text = utf8.decode(input);
    } catch {
      return badMessage("The message is not valid UTF-8: send JSON text encoded as UTF-8.");
    }
  } else {
    return { ok: true, value: input };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    // Engines may throw RangeError (stack exhaustion) on deeply nested input instead of
    // recursing without end; either way the sender gets an answer, not a crashed server.
    if (error instanceof RangeError) {
      return badMessage("The message is nested too deeply to parse: send a flat JSON object.");
    }
    const detail = error instanceof Error ? ` (${error.message})` : "";
    return badMessage(`The message is not JSON${detail}: send one JSON object, or an array of them.`);
  }
}

function badMessage(message: string): DecodedFrame {
  return { ok: false, error: { code: "bad_message", message } };
}
