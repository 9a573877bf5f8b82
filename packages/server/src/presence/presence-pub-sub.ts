import type { PeerPresence, PeerPresenceUpdate } from "@open-ot/core";

/**
 * What instances tell each other about a document's presence (never stored):
 * - `update`: entries of the sending instance that changed (`gone` when removed);
 * - `refresh`: all of the sending instance's entries, published every quarter of the expiry,
 *   which keeps them alive elsewhere (entries not listed are gone);
 * - `query`: an instance started to serve the document; the others answer with a `refresh`.
 */
export type PresenceNotice =
  | { readonly kind: "update"; readonly docId: string; readonly instance: string; readonly peers: readonly PeerPresenceUpdate[] }
  | { readonly kind: "refresh"; readonly docId: string; readonly instance: string; readonly peers: readonly PeerPresence[] }
  | { readonly kind: "query"; readonly docId: string; readonly instance: string };

/**
 * The presence side of a pub/sub (optional on a {@link PubSub}): `InProcessPubSub` and the
 * Redis adapter have it. Delivery is at most once; the periodic `refresh` repairs losses.
 */
export interface PresencePubSub {
  /** Publish `notice` to every instance subscribed to its document (this one's included). */
  publishPresence(notice: PresenceNotice): Promise<void>;
  /** Receive the document's presence notices; resolves once active, to a function that unsubscribes. */
  subscribePresence(docId: string, listener: (notice: PresenceNotice) => void): Promise<() => Promise<void>>;
}

/** True when `value` carries the presence methods. */
export function isPresencePubSub(value: unknown): value is PresencePubSub {
  const candidate = value as Partial<PresencePubSub> | null | undefined;
  return typeof candidate?.publishPresence === "function" && typeof candidate.subscribePresence === "function";
}

/** True when `value` has the shape of a {@link PresenceNotice} (for notices that crossed a wire). */
export function isPresenceNotice(value: unknown): value is PresenceNotice {
  if (typeof value !== "object" || value === null) return false;
  const notice = value as Partial<Record<string, unknown>>;
  if (typeof notice["docId"] !== "string" || typeof notice["instance"] !== "string") return false;
  const kind = notice["kind"];
  return kind === "query" || ((kind === "update" || kind === "refresh") && Array.isArray(notice["peers"]));
}
