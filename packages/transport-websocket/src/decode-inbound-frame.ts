/**
 * Turn the bytes of one inbound WebSocket frame into a JSON value.
 *
 * The server runs `ws` with `skipUTF8Validation`, so the UTF-8 check happens here: with a
 * fatal decoder, invalid UTF-8 is refused (answered with `bad_message`, the connection stays
 * open) rather than silently altered or answered with close code 1007.
 */

// `fatal: true`: invalid UTF-8 throws instead of turning into U+FFFD.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A decoded frame: its text and JSON value, or why it is not UTF-8 JSON. */
export type InboundFrame = { ok: true; text: string; value: unknown } | { ok: false; message: string };

/** Decode UTF-8 JSON text; never throws. */
export function decodeInboundFrame(bytes: Uint8Array): InboundFrame {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, message: "The message is not valid UTF-8: send JSON text encoded as UTF-8." };
  }
  try {
    return { ok: true, text, value: JSON.parse(text) as unknown };
  } catch (error) {
    // A RangeError is stack exhaustion on deeply nested input: still just a bad message.
    if (error instanceof RangeError) {
      return { ok: false, message: "The message is nested too deeply to parse: send a flat JSON object." };
    }
    return { ok: false, message: "The message is not JSON: send one JSON object, or an array of them." };
  }
}
