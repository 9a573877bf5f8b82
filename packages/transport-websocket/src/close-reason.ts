/** The longest close reason a WebSocket close frame can carry, in UTF-8 bytes (RFC 6455 5.5.1). */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Cut `reason` to fit a close frame, without splitting a character. `ws` throws on a reason
 * over 123 bytes, and a close must never fail because its explanation was long.
 */
export function truncateCloseReason(reason: string): string {
  if (Buffer.byteLength(reason, "utf8") <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = "";
  let bytes = 0;
  for (const char of reason) {
    const size = Buffer.byteLength(char, "utf8");
    if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
    out += char;
    bytes += size;
  }
  return out;
}
