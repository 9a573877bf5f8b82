import type { ServerMessage } from "./protocol.js";

/**
 * JSON text of messages already encoded, by identity. A server sends one committed op to every
 * other connection of a document as the very same message object, so it is serialised once per
 * op rather than once per recipient (the benchmark's profile showed per-recipient
 * `JSON.stringify` as a tenth of the server's time at 50 clients). Weak keys: an entry lives
 * exactly as long as its message.
 */
const encoded = new WeakMap<object, string>();

/**
 * The wire text of one message, or of a batch (a JSON array of messages), for a server binding.
 *
 * Each message object is serialised once and remembered, so a message handed to this function
 * must not be changed afterwards (the hub never changes a message once built). A batch is
 * assembled from its elements' texts, so a batch holding a shared op costs only the join.
 * Throws what `JSON.stringify` throws for a value that cannot be encoded.
 */
export function encodeMessage(message: ServerMessage | readonly ServerMessage[]): string {
  if (!Array.isArray(message)) return encodeOne(message as ServerMessage);
  let text = "[";
  for (let i = 0; i < message.length; i++) {
    if (i > 0) text += ",";
    text += encodeOne(message[i] as ServerMessage);
  }
  return text + "]";
}

function encodeOne(message: ServerMessage): string {
  let text = encoded.get(message);
  if (text === undefined) {
    text = JSON.stringify(message);
    encoded.set(message, text);
  }
  return text;
}
