import { isValidDocId } from "@open-ot/core";

/**
 * The pub/sub channel of a document's presence notices: beside its ops channel
 * (`ot:{docId}:ops`), with the same hash tag so both map to one slot on a cluster.
 * Presence is never written to a key: it lives in the instances, refreshed over this channel.
 */
export function presenceChannel(docId: string): string {
  if (!isValidDocId(docId)) throw new TypeError(`presenceChannel: not a valid document id: ${JSON.stringify(docId)}`);
  return `ot:{${docId}}:presence`;
}
