import { isValidDocId, MAX_DOC_ID_LENGTH } from "@open-ot/core";
import { documentChannel } from "@open-ot/server";

/**
 * The Redis names of one document. Every key carries the document id as a hash tag
 * (`ot:{docId}:...`), so that all of a document's keys live on one Redis Cluster slot and one
 * Lua script may touch them together.
 */
export interface DocumentKeys {
  /** Hash: `type`, `v` (revision), `snapv` and `snapshot` (the last stored snapshot), `oldest` (oldest kept revision), `nonce` (changes when the document is created). */
  readonly doc: string;
  /** List: one JSON-encoded committed op per entry; entry `i` is revision `oldest + i`. */
  readonly history: string;
  /** Hash: clientId -> `"seq:revision"`, the last committed `seq` of each client and its revision. */
  readonly seqs: string;
  /** Hash: clientId -> the principal the client is bound to (only clients that are also in `seqs`). */
  readonly owners: string;
  /** The pub/sub channel (`documentChannel(docId)` of @open-ot/server). */
  readonly channel: string;
}

/**
 * The key and channel names of `docId`. Throws a TypeError for an id the protocol does not allow:
 * callers validate ids already, but a brace or a wildcard in an id would move the document to
 * another cluster slot or let one document's names collide with another's.
 */
export function documentKeys(docId: string): DocumentKeys {
  if (!isValidDocId(docId)) {
    throw new TypeError(`Invalid document id ${JSON.stringify(docId)}: use 1 to ${MAX_DOC_ID_LENGTH} characters from [A-Za-z0-9._~:-]`);
  }
  const prefix = `ot:{${docId}}:`;
  return {
    doc: `${prefix}doc`,
    history: `${prefix}history`,
    seqs: `${prefix}seqs`,
    owners: `${prefix}owners`,
    channel: documentChannel(docId),
  };
}
