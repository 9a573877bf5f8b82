import { createHash } from "node:crypto";

/**
 * The opaque `author` label of a client in one document: what other participants see instead
 * of its `clientId`, which is a bearer secret (docs/protocol.md, "Client ids are secrets").
 *
 * Stable for a `(docId, clientId)` pair on every instance and across restarts (no server secret
 * is needed: a `clientId` holds at least 16 random characters, so its hash cannot be reversed),
 * and different in each document, so labels cannot be linked across documents.
 */
export function authorLabel(docId: string, clientId: string): string {
  return createHash("sha256").update(`ot-author\n${docId}\n${clientId}`).digest("base64url").slice(0, 16);
}
