/** The public types of `Server`: its options, what a submit carries and what it resolves with. */
import type { Logger, OTType } from "@open-ot/core";
import type { ServerMetrics } from "./metrics/server-metrics.js";

/** An OT type of any snapshot and op (the server handles them as opaque values). */
// The type's methods are used only with values of the type itself, so `unknown` is safe here.
export type AnyOTType = OTType<unknown, unknown>;

/** Options of `Server`. */
export interface ServerOptions {
  /** Types registered from the start (more with `Server.registerType`). @default [TextType] (from @open-ot/core) */
  types?: AnyOTType[];
  /**
   * How many times a commit is tried when other instances keep committing first (each retry
   * transforms the op against what they committed). Then the submit fails with `internal`.
   * @default 20
   */
  maxCommitAttempts?: number;
  /** How many documents' current snapshots are kept in memory (least recently used are dropped). @default 1000 */
  cacheSize?: number;
  /**
   * The most a client's `seq` may rise above its last committed `seq` in a document; an op
   * that jumps further is refused with `bad_message` and changes nothing. A client's first op
   * in a document may carry any `seq`. Clients count `seq` up by one per op, across all the
   * documents they edit, so this only has to exceed the ops a client commits elsewhere between
   * two commits to one document; what it stops is one op that spends the rest of a client's seq
   * range (docs/protocol.md, "Client ids are secrets"). @default 1000000
   */
  maxSeqJump?: number;
  /**
   * How many recent ops per cached document are kept to transform stale ops without a history
   * read. A document whose stale submits needed a longer read keeps that many instead, up to
   * five times this. @default 200
   */
  recentOps?: number;
  /**
   * The deadline of every backend call, in milliseconds. A call that takes longer is answered
   * `unavailable` (the client retries), and the store counts as unreachable until it answers a
   * probe again. Keep it well above the store's slowest healthy answer.
   * @default 5000
   */
  backendTimeoutMs?: number;
  /** While the store is unreachable, probe it this often, in milliseconds. @default 250 */
  healthProbeIntervalMs?: number;
  /**
   * The largest a document may grow to, in the units of its type's `size` (text: UTF-16 code
   * units; a type without `size`: characters of its JSON text). An op that would take a
   * document past it, and make it larger than it was, is refused with `too_large`; the
   * document stays as it was and usable. `Infinity` turns the limit off.
   * @default 1048576 (about Google Docs' 1.02 million characters)
   */
  maxDocumentSize?: number;
  /** @default silent */
  logger?: Logger;
  /**
   * Where to report store calls and commits; a `Hub` on this server (and its bindings) reports
   * there too. See `ServerMetrics`. @default undefined (nothing reported)
   */
  metrics?: ServerMetrics;
}

/** Who submits an op: the `(clientId, seq)` pair de-duplication works on. */
export interface SubmitMeta {
  /**
   * The submitting client. Any non-empty string up to 128 characters: the hub uses ids outside
   * the protocol's alphabet for connections that named none.
   */
  clientId?: string;
  /** The op's sequence number for `clientId` (a positive safe integer); used only with a clientId. */
  seq?: number;
  /**
   * The document's epoch the op's revision belongs to (the one its connection joined). An op of
   * another epoch is refused with `resync_required`: its revision names other content now.
   */
  epoch?: string;
  /**
   * The authenticated principal submitting the op, as an opaque key of 1 to 1024 characters
   * (the hub passes a digest); used only with a clientId and a seq. The first such commit of
   * a client with a principal binds the client to it in the document; an op of that client from
   * another principal, or from none, is then refused with `forbidden`.
   */
  principal?: string;
}

/** The op was committed (published OpenOT shape). */
export interface SubmitResult<Op = unknown> {
  /** The op as committed: transformed against everything committed after its base revision. */
  op: Op;
  /** The revision it was committed at. */
  revision: number;
  duplicate?: undefined;
}

/** `(clientId, seq)` had already been committed; nothing was applied. */
export interface DuplicateResult {
  duplicate: true;
  /** The revision the original was committed at, when still known. */
  revision?: number;
  /** The client's last committed seq. */
  lastSeq: number;
}

/** A document as of one revision, with its type. */
export interface DocumentState {
  docId: string;
  revision: number;
  snapshot: unknown;
  type: AnyOTType;
}

/** See {@link ServerOptions.maxDocumentSize}. */
export const DEFAULT_MAX_DOCUMENT_SIZE = 1024 * 1024;

/** What a submit resolves with: the op committed, or the news that it was already. */
export type SubmitOutcome = SubmitResult | DuplicateResult;
