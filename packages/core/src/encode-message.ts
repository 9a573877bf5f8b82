import type { ServerMessage } from "./protocol.js";

/**
 * Where a message keeps its JSON text once encoded (a non-enumerable property, so neither
 * `JSON.stringify`, spreads nor `structuredClone` see it). A server sends one committed op to
 * every other connection of a document as the very same message object, so it is serialised
 * once per op rather than once per recipient. Not a `WeakMap`, whose entries keyed by
 * short-lived objects outlive young-generation collections (docs/decisions/001).
 */
const ENCODED: unique symbol = Symbol("encoded JSON");

/** A message that may carry its encoded text. */
type Encodable = ServerMessage & { [ENCODED]?: string };

/**
 * The wire text of one message, or of a batch (a JSON array of messages), for a server binding.
 *
 * Each message object is serialised once and remembered, so a message handed to this function
 * must not be changed afterwards (the hub never changes a message once built). A batch is
 * assembled from its elements' texts, so a batch holding a shared op costs only the join.
 * Throws what `JSON.stringify` throws for a value that cannot be encoded.
 */
export function encodeMessage(message: ServerMessage | readonly ServerMessage[]): string {
  if (!Array.isArray(message)) return encodeOne(message as Encodable);
  let text = "[";
  for (let i = 0; i < message.length; i++) {
    if (i > 0) text += ",";
    text += encodeOne(message[i] as Encodable);
  }
  return text + "]";
}

function encodeOne(message: Encodable): string {
  const known = message[ENCODED];
  if (known !== undefined) return known;
  const text = JSON.stringify(message);
  // A frozen or sealed message is encoded again each time rather than refused.
  if (Object.isExtensible(message)) Object.defineProperty(message, ENCODED, { value: text });
  return text;
}
