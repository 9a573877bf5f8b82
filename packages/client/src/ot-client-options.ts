import type { Logger, OTType, TransportAdapter } from "@open-ot/core";
import type { DiffFunction } from "./rebase-onto-snapshot.js";
import type { RetryOptions } from "./retry-delay.js";
import type { SeqCounter } from "./seq-counter.js";

/**
 * Where the client reports what it does: core's `Logger`, under the name this package has
 * always exported. The library never writes to the console; pass `console` to see its messages.
 */
export type OTClientLogger = Logger;

/** Options of {@link OTClient}. */
export interface OTClientOptions<Snapshot, Op> {
  /** The document's OT type, for example core's `TextType`; its `name` must match the server's `docType`. */
  type: OTType<Snapshot, Op>;
  /**
   * The connection to the server. The client owns it: it calls `connect` itself and passes its
   * own receiver. A `HandshakeCapable` transport (the reconnecting wrapper) gets a handshake
   * that rejoins after every reconnection.
   */
  transport: TransportAdapter<unknown>;
  /** The document to edit; 1 to 256 characters from `[A-Za-z0-9._~:-]`. */
  docId: string;
  /**
   * This client's identity for de-duplication; 1 to 64 characters from `[A-Za-z0-9_-]`.
   * Reuse one only together with its `lastSeq`, or the server drops the new ops as duplicates.
   * @default a fresh `randomClientId()` from @open-ot/core
   */
  clientId?: string;
  /**
   * The last `seq` this `clientId` used, when resuming a persisted identity; the next op is
   * sent as `lastSeq + 1`.
   * @default 0
   */
  lastSeq?: number;
  /**
   * A `seq` counter shared with the other documents of this `clientId` (the connection
   * object, `OTConnection`, passes its own); not together with `lastSeq`.
   * @default a counter of this client alone, starting after `lastSeq`
   */
  seqCounter?: SeqCounter;
  /**
   * A known document state to resume from (give `revision` with it): the client then joins
   * with that revision and receives only what it missed, instead of a whole snapshot.
   * @default undefined (the first join asks for a snapshot)
   */
  snapshot?: Snapshot;
  /**
   * The revision `snapshot` belongs to. Required with `snapshot`, not allowed without.
   * @default undefined
   */
  revision?: number;
  /**
   * The document's epoch `snapshot` and `revision` belong to (the client's `epoch` when it was
   * persisted). With it, a server that lost or recreated the document says so instead of
   * resuming the revision in another life of it.
   * @default undefined
   */
  epoch?: string;
  /**
   * What to do when the server has lost the document (status `lost`): `"auto"` offers this
   * client's copy at once to recreate it (of many clients, exactly one copy wins; the others
   * rebase their unacknowledged edits onto it), `"manual"` waits for `restore()` or
   * `adoptServerCopy()`. Either way the client keeps its copy and its edits until then.
   * @default "auto"
   */
  restore?: "auto" | "manual";
  /**
   * Spacing of the retries of a join or op refused with a transient code (`unavailable`,
   * `internal`, `rate_limited`): exponential backoff with full jitter, without limit while the
   * transport is open. A final code is never retried.
   * @default { initialDelay: 500, maxDelay: 15000 }
   */
  retry?: RetryOptions;
  /**
   * Send `"batch": true` in every join, so the server may send JSON arrays of messages.
   * @default false
   */
  batch?: boolean;
  /**
   * Take part in presence (docs/protocol.md, "Presence"): joins ask for it, and
   * `setPresence`/`clearPresence`/`presence` work. `intervalMs` is the least time between two
   * presence messages this client sends (the last value wins). @default false (true: 50 ms)
   */
  presence?: boolean | { intervalMs: number };
  /**
   * How to compute the change between two snapshots, used to keep local edits across a resync
   * from a snapshot. Without one (and without a `diff` method on the type), unacknowledged
   * edits are dropped on such a resync and reported in the `resync` event.
   * @default `type.diff` when the type has one; core's `diffText` for the `"text"` type
   */
  diff?: DiffFunction<Snapshot, Op>;
  /**
   * Where to report what the client does.
   * @default no logging
   */
  logger?: Logger;
}
