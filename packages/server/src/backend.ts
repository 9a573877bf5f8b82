/**
 * The storage contract of @open-ot/server. `MemoryBackend` is the reference implementation;
 * `RedisAdapter` (@open-ot/adapter-redis) implements it on Redis. The contract suite in
 * @open-ot/testing runs against both.
 */

/** A document as stored: its type name, current revision `v` and snapshot `data` (published OpenOT shape). */
export interface DocumentRecord<Snapshot = unknown> {
  type: string;
  v: number;
  data: Snapshot;
}

/**
 * Which life of a document a revision belongs to. A document gets a new `epoch` whenever it is
 * created anew: first created, created again after the store lost it, or restored from a
 * client's copy. `(epoch, revision)` names one content; the same revision in another epoch may
 * be another text (docs/protocol.md, "Lost documents and restore").
 */
export interface DocumentLineage {
  /** The current revision. */
  revision: number;
  /** The current epoch. */
  epoch: string;
  /**
   * When the document was restored from a client's copy: the epoch that copy belonged to (when
   * the client knew it) and its revision, at which the restored document starts. Revisions up to
   * it of that older epoch name the same content as in this one.
   */
  restoredFrom?: { epoch?: string; revision: number };
}

/** What {@link IBackendAdapter.restoreDocument} is asked to do. */
export interface RestoreRequest<Snapshot = unknown> {
  /** The document's type name. */
  type: string;
  /** The copy: the document as of `revision`. */
  snapshot: Snapshot;
  /** The revision the copy is at; the restored document starts there, with no history before it. */
  revision: number;
  /** The epoch the copy belongs to, when its client knew it (kept as `restoredFrom.epoch`). */
  fromEpoch?: string;
  /**
   * Entries for the document's seq table (key -> last seq), merged with what it holds by taking
   * the higher seq. The hub passes the copy's author seqs under keys that no clientId can take.
   */
  seqs?: Record<string, number>;
  /**
   * The compare-and-set condition. Left out: restore only if the document does not exist.
   * Given: also when the document exists with this epoch and a revision below `revision` (it
   * lost its latest commits). Either way the check and the write are one atomic step, so of
   * many concurrent restores exactly one wins.
   */
  ifEpoch?: string;
}

/** Outcome of {@link IBackendAdapter.restoreDocument}. */
export type RestoreResult =
  /** The document now holds the copy at the request's revision, under a new epoch; its history is empty. */
  | { status: "restored"; epoch: string }
  /** The condition did not hold; nothing was written. */
  | { status: "refused" };

/** One committed op with what identifies it. */
export interface CommittedOp<Op = unknown> {
  /** The revision this op produced (the first op of a document is revision 1). */
  revision: number;
  op: Op;
  clientId?: string;
  seq?: number;
}

/** What `commit` is asked to do: append `op` as revision `revision`, if the document is at `revision - 1`. */
export interface CommitRequest<Snapshot = unknown, Op = unknown> {
  /** The new revision: the commit succeeds only if the document is at `revision - 1` (compare-and-set). */
  revision: number;
  op: Op;
  /**
   * The document after the op. A backend may store it on every commit or only every N revisions
   * (it must then rebuild the snapshot from an older one plus history when loading).
   *
   * It may be an accessor that builds the document when read (the Server passes one for text
   * documents, so a commit does not copy the whole string): read it only when it is needed, and
   * keep the request rather than the value when storing it for later.
   * A plain value may be read at once (the caller may reuse its object afterwards).
   */
  snapshot: Snapshot;
  clientId?: string;
  seq?: number;
  /**
   * The epoch the caller believes the document is in (from {@link IBackendAdapter.getLineage}). A
   * backend with epochs refuses the commit with {@link DocumentReplacedError} when the document
   * is in another one (it was restored or created anew since), checked right after existence.
   */
  epoch?: string;
  /**
   * The authenticated principal submitting the op (an opaque key; the hub passes a digest),
   * undefined without authentication. Only for an op with `clientId` and `seq`: the first such
   * commit of a `clientId` with a principal binds the client to it in this document, and from
   * then on an op of that client from another principal (or from none) is answered
   * `forbidden`, before the duplicate check. A `clientId` first committed without a principal
   * is not bound until a commit with one.
   */
  principal?: string;
  /**
   * Refuse (`seq_too_far`) an op whose `seq` is more than this far above the client's last
   * committed `seq` in this document, checked after the duplicate check. A client with no
   * committed `seq` in the document may start anywhere. Left out: no limit.
   */
  maxSeqJump?: number;
  /**
   * The revision the op was written against, before it was transformed up to `revision - 1`.
   * A backend whose {@link IBackendAdapter.checksKeptHistory} is true refuses the commit with
   * {@link HistoryTrimmedError} when the ops after `base` are no longer kept (`base + 1` is
   * older than the oldest kept revision), checked inside the atomic commit after the duplicate
   * check and before the revision. Other backends ignore it.
   */
  base?: number;
}

/** Outcome of {@link IBackendAdapter.commit}. */
export type CommitResult =
  /** Committed as `revision`; the committed op was published on the document's channel. */
  | { status: "committed"; revision: number }
  /**
   * The document is no longer at `revision - 1`; nothing was written. `current` is its revision now.
   * A backend may add `ops`: every op committed after `revision - 1` through `current`, in order
   * (all of them, or the field is left out), read in the same atomic step, so the caller can
   * transform and retry without reading them.
   */
  | { status: "conflict"; current: number; ops?: CommittedOp[] }
  /** `(clientId, seq)` was already committed (at `revision`, when the backend still knows it); nothing was written. */
  | { status: "duplicate"; revision?: number; lastSeq: number }
  /** The client is bound to another principal in this document (see {@link CommitRequest.principal}); nothing was written. */
  | { status: "forbidden" }
  /** `seq` is more than {@link CommitRequest.maxSeqJump} above the client's last committed `seq`, `lastSeq`; nothing was written. */
  | { status: "seq_too_far"; lastSeq: number };

/**
 * Outcome of {@link IBackendAdapter.commitBatch}: `committed[i]` is the revision `requests[i]`
 * was committed at, for the requests committed (a prefix of them, in order); `stop` is why the
 * next request was not committed, when not all were. Nothing after that request was tried.
 */
export interface CommitBatchResult {
  committed: number[];
  /**
   * Why `requests[committed.length]` was not committed, as `commit` would have answered it
   * (`trimmed`: `commit` would have rejected it with {@link HistoryTrimmedError}).
   */
  stop?: Exclude<CommitResult, { status: "committed" }> | { status: "trimmed"; oldestKept: number };
}

/** The message published on a document's channel for every committed op. */
export interface CommitNotice<Op = unknown> {
  docId: string;
  revision: number;
  op: Op;
  clientId?: string;
  seq?: number;
  /**
   * Set only on the notice a restore publishes: the document was created anew at `revision`
   * with this epoch. Nothing was committed (`op` is null); subscribers must start over.
   */
  restored?: string;
}

/** Thrown by backends for a document that does not exist. */
export class DocumentNotFoundError extends Error {
  override readonly name = "DocumentNotFoundError";
  constructor(readonly docId: string) {
    super(`Document "${docId}" does not exist`);
  }
}

/**
 * Thrown by `getOps` and `getHistory` when the requested range starts before the oldest op the
 * backend still keeps (see {@link IBackendAdapter.getOldestKeptRevision}). Callers fall back to
 * a snapshot (a join) or refuse with `resync_required` (a submit).
 */
export class HistoryTrimmedError extends Error {
  override readonly name = "HistoryTrimmedError";
  constructor(
    readonly docId: string,
    /** The first revision that was asked for. */
    readonly requested: number,
    /** The oldest revision still kept. */
    readonly oldestKept: number,
  ) {
    super(
      `Document "${docId}": ops from revision ${requested} were trimmed (oldest kept: ${oldestKept}); ` +
        `load the snapshot instead, or raise the backend's historyLimit`,
    );
  }
}

/**
 * The one error a backend throws when its store cannot be reached or did not answer in time
 * (its connection is down, it is loading its data, or a call passed the deadline). The server
 * answers it with the protocol code `unavailable` (transient): the request was not applied, or
 * its outcome is unknown, and the same request may be sent again.
 */
export class BackendUnavailableError extends Error {
  override readonly name: string = "BackendUnavailableError";
  /** The protocol error code a server reports for this failure. */
  readonly code = "unavailable" as const;

  constructor(
    message: string,
    /**
     * Whether the call may have reached the store: `false` means nothing changed; `true` means
     * a commit may have been applied before its answer was lost (resending it with the same
     * `(clientId, seq)` is safe: it then comes back as a duplicate).
     */
    readonly sent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for a {@link BackendUnavailableError}, also one from another copy of this package. */
export function isBackendUnavailable(error: unknown): error is BackendUnavailableError {
  return error instanceof BackendUnavailableError || (error instanceof Error && (error as { code?: unknown }).code === "unavailable");
}

/**
 * Thrown by `commit` and `commitBatch` when {@link CommitRequest.epoch} is not the document's:
 * it was restored or created anew since the caller read it. Nothing was written.
 */
export class DocumentReplacedError extends Error {
  override readonly name = "DocumentReplacedError";
  constructor(
    readonly docId: string,
    /** The document's epoch now. */
    readonly epoch: string,
  ) {
    super(`Document "${docId}" was created anew (epoch ${epoch}) since it was read: read it again`);
  }
}

/** Thrown by `createDocument` for a document that already exists. */
export class DocumentExistsError extends Error {
  override readonly name = "DocumentExistsError";
  constructor(readonly docId: string) {
    super(`Document "${docId}" already exists`);
  }
}

/** Storage for documents, their history, and the last committed `seq` of each client. */
export interface IBackendAdapter {
  /** Create a document at revision 0. Rejects with {@link DocumentExistsError} if it exists. */
  createDocument(docId: string, type: string, snapshot: unknown): Promise<void>;
  /** The current record, or rejects with {@link DocumentNotFoundError}. */
  getRecord(docId: string): Promise<DocumentRecord>;
  /**
   * The ops that produced revisions `start + 1 .. end` (published shape: `start` inclusive index,
   * `end` exclusive, clamped to the current revision; ops only). Rejects with
   * {@link HistoryTrimmedError} when a requested op is no longer kept.
   */
  getHistory(docId: string, start: number, end?: number): Promise<unknown[]>;
  /**
   * Legacy published API: append `op` as revision `newRevision` (must be current + 1) with no
   * de-duplication. Prefer `commit`.
   */
  saveOperation(docId: string, op: unknown, newRevision: number): Promise<void>;

  /**
   * Atomically: compare the revision, check and record `(clientId, seq)`, append the op, store
   * the snapshot (or not, see {@link CommitRequest.snapshot}), bump the revision, and publish a
   * {@link CommitNotice} on the document's channel, so that publication order is revision order.
   * Checks run in this order: existence (rejects with DocumentNotFoundError), epoch (when the
   * request has one and the backend has epochs; rejects with DocumentReplacedError), the
   * client's principal (`forbidden`), duplicate, how far the seq jumps (`seq_too_far`), kept
   * history of `base` (when {@link checksKeptHistory}; rejects with HistoryTrimmedError), revision.
   */
  commit(docId: string, request: CommitRequest): Promise<CommitResult>;
  /**
   * Committed ops with revisions in `from .. to` inclusive (`to` defaults to, and is clamped to,
   * the current revision; `from` below 1 counts as 1; an empty range gives `[]`). Rejects with {@link HistoryTrimmedError}
   * when `from` is older than the oldest kept revision (and the range is not empty).
   */
  getOps(docId: string, from: number, to?: number): Promise<CommittedOp[]>;
  /** The oldest revision whose op is still kept (history before it was trimmed); `current + 1` when none is kept. */
  getOldestKeptRevision(docId: string): Promise<number>;
  /** The last committed `seq` of `clientId` in the document, if any. */
  getLastSeq(docId: string, clientId: string): Promise<number | undefined>;
  /**
   * Optional: the principal `clientId` is bound to in the document (see
   * {@link CommitRequest.principal}), if any. The hub asks it to refuse a `join` naming a client
   * bound to another principal; without it only ops are refused.
   */
  getClientPrincipal?(docId: string, clientId: string): Promise<string | undefined>;
  /** The current revision, or rejects with DocumentNotFoundError. */
  getRevision(docId: string): Promise<number>;
  /**
   * Optional: commit `requests` (consecutive revisions, in order) in one atomic step, each
   * exactly as {@link commit} would commit it alone (same checks in the same order, one
   * {@link CommitNotice} per op, in revision order), stopping at the first that `commit` would
   * not have committed. A document that does not exist rejects with DocumentNotFoundError
   * (nothing committed). The Server uses it, when present and {@link checksKeptHistory} is
   * true, to commit several queued submits to one document in one round trip.
   */
  commitBatch?(docId: string, requests: CommitRequest[]): Promise<CommitBatchResult>;
  /**
   * Optional: true when `commit` honours {@link CommitRequest.base} (refuses, atomically, an op
   * based on a revision older than the kept history). The Server then leaves the kept-history
   * check of a submit to the commit instead of asking {@link getOldestKeptRevision} first.
   */
  readonly checksKeptHistory?: boolean;
  /**
   * Optional: the document's revision and epoch in one read (rejects with
   * DocumentNotFoundError). Backends that have it let the hub tell a client's revision of an
   * earlier life of the document from the same revision now, and offer restores.
   */
  getLineage?(docId: string): Promise<DocumentLineage>;
  /**
   * Optional: recreate a lost document from a client's copy, atomically under the condition of
   * {@link RestoreRequest.ifEpoch}; on success publish a notice with `restored` set on the
   * document's channel. Requires {@link getLineage}.
   */
  restoreDocument?(docId: string, request: RestoreRequest): Promise<RestoreResult>;
  /**
   * Optional: resolve once the store answers (a health check). Rejects with
   * {@link BackendUnavailableError} when it cannot be reached.
   */
  ping?(): Promise<void>;
  /** Release connections and timers. */
  close(): Promise<void>;
}

/** Receive the messages published on a channel. */
export type PubSubListener = (message: CommitNotice) => void;

/**
 * What an instance tells the others when a connection of a client joins a document, so that an
 * older connection of that client to that document, still open elsewhere (half-open, or another
 * tab sharing the `clientId`), is closed. Connections are ordered by when they opened; ties
 * by instance, then serial.
 */
export interface ClientNotice {
  /** A digest of the client's `clientId` (the id itself is a secret and never published). */
  client: string;
  /** A digest of the connection's principal; absent without authentication. */
  principal?: string;
  /** The document joined. */
  docId: string;
  /** When the joining connection opened (milliseconds since the epoch, the instance's clock). */
  openedAt: number;
  /** The instance that holds the joining connection (unique per hub). */
  instance: string;
  /** The joining connection's number on its instance (rises with every connection). */
  serial: number;
}

/**
 * Fan-out of committed ops. Delivery is at most once and may be lost (Redis pub/sub), so
 * subscribers treat it as a hint and fill gaps from the backend's history.
 */
export interface PubSub {
  /** Publish `message` on `channel`. */
  publish(channel: string, message: CommitNotice): Promise<void>;
  /**
   * Subscribe to `channel`; resolves once the subscription is active (messages published after
   * that are delivered). Resolves to a function that unsubscribes.
   */
  subscribe(channel: string, onMessage: PubSubListener): Promise<() => Promise<void>>;
  /**
   * Optional: be told when the subscription may have missed messages (the subscriber
   * connection dropped and came back). Subscribers then catch up from history: those of
   * `channels` when the pub/sub names them (a Redis Cluster names the channels of the node that
   * dropped, or of the slots that moved), else every one.
   */
  onResubscribe?(listener: (channels?: readonly string[]) => void): () => void;
  /**
   * Optional: publish a {@link ClientNotice} to every instance's {@link subscribeClientNotices}
   * listener (this one's included). Without it (and `subscribeClientNotices`), an older
   * connection of a client is closed only on the instance where the client joined again.
   */
  publishClientNotice?(notice: ClientNotice): Promise<void>;
  /**
   * Optional: receive every {@link ClientNotice}, in publication order, delivery at most once.
   * Resolves once active, to a function that unsubscribes.
   */
  subscribeClientNotices?(listener: (notice: ClientNotice) => void): Promise<() => Promise<void>>;
  /** Release connections. */
  close(): Promise<void>;
}

/** The pub/sub channel of {@link ClientNotice}s (outside the `ot:{docId}:...` names of documents). */
export const CLIENT_NOTICE_CHANNEL = "ot:clients";

/** True when `value` has the shape of a {@link ClientNotice} (for pub/subs that receive untyped JSON). */
export function isClientNotice(value: unknown): value is ClientNotice {
  if (typeof value !== "object" || value === null) return false;
  const notice = value as Partial<ClientNotice>;
  return (
    typeof notice.client === "string" &&
    (notice.principal === undefined || typeof notice.principal === "string") &&
    typeof notice.docId === "string" &&
    typeof notice.openedAt === "number" &&
    typeof notice.instance === "string" &&
    typeof notice.serial === "number"
  );
}

/** The pub/sub channel of a document. The docId is validated by callers, so it cannot break the name. */
export function documentChannel(docId: string): string {
  return `ot:{${docId}}:ops`;
}
