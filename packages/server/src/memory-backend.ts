import { checkNumberOption, TextType, randomClientId, type OTType } from "@open-ot/core";
import {
  DocumentExistsError,
  DocumentNotFoundError,
  DocumentReplacedError,
  HistoryTrimmedError,
  documentChannel,
  type CommitBatchResult,
  type CommitNotice,
  type CommitRequest,
  type CommitResult,
  type CommittedOp,
  type DocumentLineage,
  type DocumentRecord,
  type IBackendAdapter,
  type RestoreRequest,
  type RestoreResult,
} from "./backend.js";
import { InProcessPubSub } from "./in-process-pub-sub.js";

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /**
   * Where commits are published. Share one between several `MemoryBackend`-backed servers in a
   * process only if they also share this backend. @default a new {@link InProcessPubSub}
   */
  pubsub?: InProcessPubSub;
  /** Types the legacy `saveOperation` can apply, by name. @default [TextType] */
  types?: OTType<unknown, unknown>[];
  /**
   * Keep only the newest `historyLimit` ops of each document; older ones are dropped and
   * resumes from before them get a snapshot, and ops based on them are refused with
   * `resync_required`. A long-running process must not keep every op of every document it ever
   * served; the default is a few megabytes of text per document and seconds of a busy
   * document's ops (docs/decisions/004). `Infinity` keeps everything (tests that audit a whole
   * history). @default 10000
   */
  historyLimit?: number;
  /**
   * Have {@link MemoryBackend.commitBatch}, so that a `Server` on this backend commits the
   * submits queued on a document together, as it does on Redis (docs/decisions/023). Off, each
   * submit commits alone without waiting: in memory a commit costs no round trip to share.
   * @default false
   */
  groupCommit?: boolean;
}

/** The last committed `seq` of one client in one document, the revision it made, and the principal the client is bound to. */
interface SeqEntry {
  seq: number;
  revision: number;
  principal: string | undefined;
}

interface StoredDocument {
  readonly type: string;
  /** Changes whenever the document is created anew (see `DocumentLineage`). */
  readonly epoch: string;
  readonly restoredFrom?: { epoch?: string; revision: number };
  revision: number;
  /** Reads the current snapshot (see {@link keepSnapshot}). */
  snapshot: () => unknown;
  /**
   * The kept ops, oldest first, from index `keptFrom`: `history[keptFrom + i]` made revision
   * `oldestKept + i`. Entries before `keptFrom` are trimmed ones not yet let go (see `append`).
   */
  history: CommittedOp[];
  keptFrom: number;
  oldestKept: number;
  readonly seqs: Map<string, SeqEntry>;
}

/**
 * {@link IBackendAdapter} in memory: the reference backend, for tests, demos and
 * single-process deployments.
 *
 * Keeps, per document, the current snapshot, the op history with `clientId`/`seq`, and the
 * last committed `seq` of each client with its revision. Each method does all its reading and
 * writing synchronously before it returns a promise, so every call is atomic; `commit` queues
 * its {@link CommitNotice} on the pub/sub in the same step, so publication order is revision
 * order. Inputs are cloned on the way in, so callers may reuse their objects; returned values
 * are shared and must be treated as read-only.
 */
export class MemoryBackend implements IBackendAdapter {
  /** The pub/sub every commit is published on. */
  readonly pubsub: InProcessPubSub;
  /** Honours {@link CommitRequest.base}: an op based on a revision older than the kept history is refused in the commit. */
  readonly checksKeptHistory = true;
  /**
   * Commit `requests` (consecutive revisions) in one step, each as {@link commit} would, stopping
   * at the first not committed (see {@link IBackendAdapter.commitBatch}). Only with
   * {@link MemoryBackendOptions.groupCommit}.
   */
  readonly commitBatch?: (docId: string, requests: CommitRequest[]) => Promise<CommitBatchResult>;
  private readonly docs = new Map<string, StoredDocument>();
  private readonly types = new Map<string, OTType<unknown, unknown>>();
  private readonly historyLimit: number;

  constructor(options: MemoryBackendOptions = {}) {
    this.pubsub = options.pubsub ?? new InProcessPubSub();
    for (const type of options.types ?? [TextType]) this.types.set(type.name, type);
    if (options.groupCommit === true) this.commitBatch = (docId, requests) => this.commitMany(docId, requests);
    this.historyLimit = checkNumberOption("MemoryBackend", "historyLimit", options.historyLimit ?? DEFAULT_HISTORY_LIMIT, {
      min: 1,
      integer: true,
      infinite: true,
    });
  }

  /** Add a type the legacy `saveOperation` can apply. */
  registerType(type: OTType<unknown, unknown>): void {
    this.types.set(type.name, type);
  }

  createDocument(docId: string, type: string, snapshot: unknown): Promise<void> {
    return run(() => {
      if (this.docs.has(docId)) throw new DocumentExistsError(docId);
      this.docs.set(docId, {
        type,
        epoch: randomClientId(),
        revision: 0,
        snapshot: keepValue(snapshot),
        history: [],
        keptFrom: 0,
        oldestKept: 1,
        seqs: new Map(),
      });
    });
  }

  getRecord(docId: string): Promise<DocumentRecord> {
    return run(() => {
      const doc = this.get(docId);
      return { type: doc.type, v: doc.revision, data: doc.snapshot() };
    });
  }

  getLineage(docId: string): Promise<DocumentLineage> {
    return run(() => {
      const doc = this.get(docId);
      const lineage: DocumentLineage = { revision: doc.revision, epoch: doc.epoch };
      if (doc.restoredFrom !== undefined) lineage.restoredFrom = { ...doc.restoredFrom };
      return lineage;
    });
  }

  restoreDocument(docId: string, request: RestoreRequest): Promise<RestoreResult> {
    return run((): RestoreResult => {
      const existing = this.docs.get(docId);
      if (
        existing !== undefined &&
        !(request.ifEpoch !== undefined && existing.epoch === request.ifEpoch && existing.revision < request.revision)
      ) {
        return { status: "refused" };
      }
      this.assertCanPublish();
      const seqs = existing?.seqs ?? new Map<string, SeqEntry>();
      for (const [key, seq] of Object.entries(request.seqs ?? {})) {
        const known = seqs.get(key);
        if (known === undefined) seqs.set(key, { seq, revision: request.revision, principal: undefined });
        else if (known.seq < seq) seqs.set(key, { seq, revision: request.revision, principal: known.principal });
      }
      const epoch = randomClientId();
      this.docs.set(docId, {
        type: request.type,
        epoch,
        restoredFrom:
          request.fromEpoch === undefined ? { revision: request.revision } : { epoch: request.fromEpoch, revision: request.revision },
        revision: request.revision,
        snapshot: keepValue(request.snapshot),
        history: [],
        keptFrom: 0,
        oldestKept: request.revision + 1,
        seqs,
      });
      this.pubsub.publishNow(documentChannel(docId), { docId, revision: request.revision, op: null, restored: epoch });
      return { status: "restored", epoch };
    });
  }

  /** Always answers: the data is in this process. */
  ping(): Promise<void> {
    return Promise.resolve();
  }

  getRevision(docId: string): Promise<number> {
    return run(() => this.get(docId).revision);
  }

  getHistory(docId: string, start: number, end?: number): Promise<unknown[]> {
    // Index `start` (inclusive) to `end` (exclusive) of the full history are revisions start+1 .. end.
    return run(() => this.range(docId, this.get(docId), start + 1, end).map((c) => c.op));
  }

  getOps(docId: string, from: number, to?: number): Promise<CommittedOp[]> {
    return run(() => this.range(docId, this.get(docId), from, to).map((c) => ({ ...c })));
  }

  getOldestKeptRevision(docId: string): Promise<number> {
    return run(() => {
      return oldestKeptOf(this.get(docId));
    });
  }

  getLastSeq(docId: string, clientId: string): Promise<number | undefined> {
    return run(() => this.docs.get(docId)?.seqs.get(clientId)?.seq);
  }

  getClientPrincipal(docId: string, clientId: string): Promise<string | undefined> {
    return run(() => this.docs.get(docId)?.seqs.get(clientId)?.principal);
  }

  saveOperation(docId: string, op: unknown, newRevision: number): Promise<void> {
    return run(() => {
      const doc = this.get(docId);
      this.assertCanPublish();
      if (newRevision !== doc.revision + 1) {
        throw new Error(
          `MemoryBackend.saveOperation: document "${docId}" is at revision ${doc.revision}, so the next op must be ` +
            `revision ${doc.revision + 1}, not ${newRevision}; use commit() to detect conflicts without throwing`,
        );
      }
      const type = this.types.get(doc.type);
      if (!type) {
        throw new Error(
          `MemoryBackend.saveOperation: no type "${doc.type}" registered to apply the op; pass it in options.types or call registerType()`,
        );
      }
      const stored = cloneValue(op);
      const snapshot = type.apply(doc.snapshot(), stored);
      this.append(docId, doc, { revision: newRevision, op: stored }, () => snapshot);
    });
  }

  commit(docId: string, request: CommitRequest): Promise<CommitResult> {
    return run((): CommitResult => {
      const doc = this.get(docId);
      if (request.epoch !== undefined && request.epoch !== doc.epoch) throw new DocumentReplacedError(docId, doc.epoch);
      const result = this.commitTo(docId, doc, request);
      if (result.status === "trimmed") throw new HistoryTrimmedError(docId, (request.base ?? 0) + 1, result.oldestKept);
      return result;
    });
  }

  /** {@link commitBatch}, when the backend has it. */
  private commitMany(docId: string, requests: CommitRequest[]): Promise<CommitBatchResult> {
    return run((): CommitBatchResult => {
      const doc = this.get(docId);
      for (const [i, request] of requests.entries()) {
        if (i > 0 && request.revision !== requests[i - 1]!.revision + 1) {
          throw new TypeError("MemoryBackend.commitBatch: the requests' revisions must be consecutive");
        }
        if (request.epoch !== undefined && request.epoch !== doc.epoch) throw new DocumentReplacedError(docId, doc.epoch);
      }
      const committed: number[] = [];
      for (const request of requests) {
        const result = this.commitTo(docId, doc, request);
        if (result.status !== "committed") return { committed, stop: result };
        committed.push(result.revision);
      }
      return { committed };
    });
  }

  /** The checks and the write of one commit, after existence and epoch, in the order {@link IBackendAdapter.commit} gives. */
  private commitTo(docId: string, doc: StoredDocument, request: CommitRequest): CommitResult | { status: "trimmed"; oldestKept: number } {
    const { clientId, seq } = request;
    const last = clientId !== undefined && seq !== undefined ? doc.seqs.get(clientId) : undefined;
    if (last !== undefined && seq !== undefined) {
      // The principal first: another principal's copy of a committed op must not even learn
      // that it is a duplicate.
      if (last.principal !== undefined && last.principal !== request.principal) return { status: "forbidden" };
      // De-duplication comes before the revision check: a resent op is recognised whatever
      // revision it names (docs/protocol.md, guarantee 3).
      if (seq <= last.seq) {
        return seq === last.seq
          ? { status: "duplicate", revision: last.revision, lastSeq: last.seq }
          : { status: "duplicate", lastSeq: last.seq };
      }
      if (request.maxSeqJump !== undefined && seq - last.seq > request.maxSeqJump) return { status: "seq_too_far", lastSeq: last.seq };
    }
    const oldestKept = oldestKeptOf(doc);
    if (request.base !== undefined && request.base + 1 < oldestKept) return { status: "trimmed", oldestKept };
    if (request.revision !== doc.revision + 1) return { status: "conflict", current: doc.revision };
    this.assertCanPublish();
    const entry: CommittedOp = { revision: request.revision, op: cloneValue(request.op) };
    if (clientId !== undefined) entry.clientId = clientId;
    if (clientId !== undefined && seq !== undefined) {
      entry.seq = seq;
      doc.seqs.set(clientId, { seq, revision: request.revision, principal: last?.principal ?? request.principal });
    }
    this.append(docId, doc, entry, keepSnapshot(request));
    return { status: "committed", revision: request.revision };
  }

  /** Nothing to release: the data stays readable, and the pub/sub stays open (close it yourself). */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Refuse before writing anything: a commit that could not be published must not happen. */
  private assertCanPublish(): void {
    if (this.pubsub.closed) {
      throw new Error("MemoryBackend: its pub/sub was closed, so commits could not be delivered; create a new backend");
    }
  }

  private get(docId: string): StoredDocument {
    const doc = this.docs.get(docId);
    if (!doc) throw new DocumentNotFoundError(docId);
    return doc;
  }

  /** Kept ops with revisions `from .. to` inclusive, clamped as `getOps` documents. */
  private range(docId: string, doc: StoredDocument, from: number, to: number | undefined): CommittedOp[] {
    const first = Math.max(1, from);
    const last = Math.min(doc.revision, to ?? doc.revision);
    if (first > last) return [];
    if (first < doc.oldestKept) throw new HistoryTrimmedError(docId, first, doc.oldestKept);
    return doc.history.slice(doc.keptFrom + first - doc.oldestKept, doc.keptFrom + last - doc.oldestKept + 1);
  }

  private append(docId: string, doc: StoredDocument, entry: CommittedOp, snapshot: () => unknown): void {
    doc.history.push(entry);
    doc.revision = entry.revision;
    doc.snapshot = snapshot;
    const excess = doc.history.length - doc.keptFrom - this.historyLimit;
    if (excess > 0) {
      doc.keptFrom += excess;
      doc.oldestKept += excess;
      // Let go of the trimmed entries in one copy once they are as many as the kept ones, so
      // trimming costs amortised O(1) per commit (docs/decisions/004).
      if (doc.keptFrom >= this.historyLimit) {
        doc.history = doc.history.slice(doc.keptFrom);
        doc.keptFrom = 0;
      }
    }
    const notice: CommitNotice = { docId, revision: entry.revision, op: entry.op };
    if (entry.clientId !== undefined) notice.clientId = entry.clientId;
    if (entry.seq !== undefined) notice.seq = entry.seq;
    // Queued synchronously with the write: no other commit can slip in between, so the
    // channel sees revisions in order.
    this.pubsub.publishNow(documentChannel(docId), notice);
  }
}

/** The oldest revision whose op is kept; `revision + 1` when none is. */
function oldestKeptOf(doc: StoredDocument): number {
  return doc.history.length === doc.keptFrom ? doc.revision + 1 : doc.oldestKept;
}

/** How many ops per document {@link MemoryBackend} keeps unless told otherwise. */
const DEFAULT_HISTORY_LIMIT = 10_000;

/** Run `body` now and turn its result or exception into a promise. */
function run<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A reader of a private copy of `value`, taken now. */
function keepValue(value: unknown): () => unknown {
  const copy = cloneValue(value);
  return () => copy;
}

/**
 * A reader of the request's snapshot. A plain value is copied now, since the caller may reuse
 * its object. An accessor (the Server passes one for text documents, whose string it builds on
 * demand) is read when the document is first loaded, and then kept: read on every commit, it
 * would copy a large document per commit, most of them never loaded.
 */
function keepSnapshot(request: CommitRequest): () => unknown {
  if (Object.getOwnPropertyDescriptor(request, "snapshot")?.get === undefined) return keepValue(request.snapshot);
  let read: { value: unknown } | undefined;
  return () => {
    read ??= { value: cloneValue(request.snapshot) };
    return read.value;
  };
}

/**
 * A private copy of a caller's value. Primitives are immutable and returned as they are (a text
 * document is a string, which must not be copied per commit); plain data (see
 * {@link copyPlain}) is copied by hand, which costs a fraction of `structuredClone`; anything
 * else goes to `structuredClone` (docs/decisions/003).
 */
function cloneValue<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  const copy = copyPlain(value, MAX_PLAIN_DEPTH);
  return (copy === NOT_PLAIN ? structuredClone(value) : copy) as T;
}

/** How deep {@link copyPlain} goes; deeper values, cycles among them, go to `structuredClone`. */
const MAX_PLAIN_DEPTH = 16;
const NOT_PLAIN: unique symbol = Symbol("not plain");

/**
 * A deep copy of `value` when it is plain data, as JSON carries it: arrays without holes and
 * objects whose prototype is `Object.prototype`, nested at most `depth` deep, of strings,
 * numbers, booleans, bigints, `null` and `undefined`; otherwise `NOT_PLAIN`. What it copies is
 * what `structuredClone` copies (own enumerable string keys, array elements), except that it
 * does not keep two references to one object as one object, and it leaves out properties of an
 * array other than its elements, which JSON leaves out too.
 */
function copyPlain(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) {
    return typeof value === "symbol" || typeof value === "function" ? NOT_PLAIN : value;
  }
  if (depth === 0) return NOT_PLAIN;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return NOT_PLAIN;
    const out: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index++) {
      if (!(index in value)) return NOT_PLAIN;
      const item = copyPlain(value[index], depth - 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out[index] = item;
    }
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key in value) {
    // An inherited key means a polluted Object.prototype; "__proto__" would set the copy's prototype.
    if (!Object.prototype.hasOwnProperty.call(value, key) || key === "__proto__") return NOT_PLAIN;
    const item = copyPlain((value as Record<string, unknown>)[key], depth - 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    out[key] = item;
  }
  return out;
}
