import {
  checkNumberOption,
  InvalidOpError,
  LazyText,
  TextType,
  isValidDocId,
  isValidRevision,
  isValidSeq,
  silentLogger,
  textOpLengthDelta,
  textOpReach,
  type Logger,
  type OTType,
  type TextOp,
} from "@open-ot/core";
import {
  DocumentNotFoundError,
  DocumentReplacedError,
  HistoryTrimmedError,
  type CommitBatchResult,
  type CommitRequest,
  type CommitResult,
  type CommittedOp,
  type DocumentLineage,
  type IBackendAdapter,
  type RestoreRequest,
} from "./backend.js";
import { transformOverCommitted } from "./committed-text-ops.js";
import { BackendGuard, type BackendHealth } from "./backend-guard.js";
import { KeyedQueue } from "./keyed-queue.js";
import { observeBackend } from "./metrics/observe-backend.js";
import type { ServerMetrics } from "./metrics/server-metrics.js";
import { OTError } from "./ot-error.js";

/** An OT type of any snapshot and op (the server handles them as opaque values). */
// The type's methods are used only with values of the type itself, so `unknown` is safe here.
export type AnyOTType = OTType<unknown, unknown>;

/** Options of {@link Server}. */
export interface ServerOptions {
  /** Types registered from the start (more with {@link Server.registerType}). @default [TextType] */
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

interface CachedDocument {
  readonly docId: string;
  readonly type: AnyOTType;
  /** The backend's epoch of the document when it was loaded (backends with epochs); commits carry it. */
  epoch: string | undefined;
  revision: number;
  /**
   * The current document. For {@link TextType} documents a {@link LazyText}, so a commit costs
   * what its op holds rather than what the document holds (see `held`); otherwise the type's
   * snapshot itself.
   */
  snapshot: unknown;
  /** The newest committed ops, contiguous and ending at `revision` (may be empty). */
  recent: CommittedOp[];
  /**
   * How many of `recent` a commit keeps when it trims them: `recentOps`, grown (up to
   * {@link RECENT_GROWTH} times) to the longest read a stale submit needed (see `opsSince`).
   */
  recentLimit?: number;
}

const MAX_META_CLIENT_ID_LENGTH = 128;
const MAX_PRINCIPAL_LENGTH = 1024;

/** See {@link ServerOptions.maxDocumentSize}. */
export const DEFAULT_MAX_DOCUMENT_SIZE = 1024 * 1024;

/** The most ops committed in one {@link IBackendAdapter.commitBatch} call. */
const MAX_BATCH = 64;

/** See {@link ServerOptions.maxSeqJump}. */
const DEFAULT_MAX_SEQ_JUMP = 1_000_000;

/**
 * How far a document's recent-op window may grow past `recentOps` for stale submits
 * (`CachedDocument.recentLimit`): 5 x the default 200 is the 1,000 ops `RedisAdapter` keeps.
 */
const RECENT_GROWTH = 5;

/**
 * A submit waiting on its document's queue, for a backend with `commitBatch`. A run of them
 * queued back to back (nothing else queued between them) forms a `group`.
 */
interface QueuedSubmit {
  readonly op: unknown;
  readonly revision: number;
  readonly clientId: string | undefined;
  readonly seq: number | undefined;
  readonly epoch: string | undefined;
  readonly principal: string | undefined;
  /** The submits of the group not yet taken by a batch, in queue order (this one among them until taken). */
  readonly group: QueuedSubmit[];
  readonly result: Promise<SubmitResult | DuplicateResult>;
  resolve(result: SubmitResult): void;
  reject(error: unknown): void;
  /**
   * The op as judged by an earlier batch and transformed over everything committed up to
   * revision `at` (not over that batch's other ops). A batch that lost the race or stopped
   * before this submit carries it on from there instead of from the base revision: a submit that
   * waits through many batches costs the ops committed since its last judgement, not all those
   * since its base (re-judging from the base made a waiting batch ever slower to retry, so it
   * kept losing: at 400 clients on two instances some submits waited past the kept history).
   */
  candidate?: unknown;
  /** The revision `candidate` is based on (unset until a batch has judged this submit). */
  at?: number;
}

/** A submit of a batch, judged and ready to commit. */
interface PreparedSubmit {
  readonly request: CommitRequest;
  readonly committed: CommittedOp;
  readonly snapshot: unknown;
}

/**
 * Commits ops by revision with exactly-once semantics (docs/architecture.md, "Commit path").
 *
 * `submitOperation` runs the protocol's checks in order — the document (`not_found`), the
 * revision (`bad_revision`), de-duplication (a duplicate resolves with `duplicate: true`),
 * kept history (`resync_required`), the op (`invalid_op`) — then transforms the op against
 * everything committed after its base revision (the incoming op on the `right`), applies it
 * to the current snapshot and commits it through the backend's compare-and-set. When another
 * instance committed first it transforms again and retries, a bounded number of times.
 * Refusals reject with an {@link OTError}; the document is then unchanged.
 *
 * Submits to one document are serialised on this instance. With a backend that has
 * `commitBatch` and `checksKeptHistory`, the submits queued on a document are judged in order against the document as
 * the earlier ones leave it and committed together, in one backend call (at most 64 per call);
 * any not committed by it take the normal path, one by one, so refusals and de-duplication are
 * exactly those of single submits. The current snapshot of recently used documents is cached,
 * so a commit neither reloads nor re-applies history.
 */
export class Server {
  /** The storage this server commits to, as it was given. */
  readonly backend: IBackendAdapter;
  /** The sink given as `options.metrics`. */
  readonly metrics: ServerMetrics | undefined;
  /**
   * The same storage as the server calls it: every call has a deadline of `backendTimeoutMs`
   * and fails at once while the store is known to be unreachable (see {@link BackendGuard}),
   * and is reported to {@link metrics} when there is a sink. A {@link Hub} reads history
   * through it too.
   */
  readonly store: IBackendAdapter;
  /** The deadlines and health of {@link store}. */
  readonly guard: BackendGuard;
  private readonly types = new Map<string, AnyOTType>();
  private readonly cache = new Map<string, CachedDocument>();
  private readonly queue = new KeyedQueue();
  /** Per document, the group later submits join (see {@link QueuedSubmit}). */
  private readonly groups = new Map<string, QueuedSubmit[]>();
  private readonly maxCommitAttempts: number;
  private readonly cacheSize: number;
  private readonly recentOps: number;
  private readonly maxSeqJump: number;
  private readonly maxDocumentSize: number;
  private readonly logger: Logger;

  constructor(backend: IBackendAdapter, options: ServerOptions = {}) {
    this.metrics = options.metrics;
    this.backend = backend;
    this.guard = new BackendGuard(backend, {
      timeoutMs: checkNumberOption("Server", "backendTimeoutMs", options.backendTimeoutMs ?? 5_000, { min: 0, aboveMin: true }),
      probeIntervalMs: checkNumberOption("Server", "healthProbeIntervalMs", options.healthProbeIntervalMs ?? 250, { min: 0, aboveMin: true }),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.store = options.metrics === undefined ? this.guard.backend : observeBackend(this.guard.backend, options.metrics);
    for (const type of options.types ?? [TextType as AnyOTType]) this.registerType(type);
    this.maxCommitAttempts = checkNumberOption("Server", "maxCommitAttempts", options.maxCommitAttempts ?? 20, { min: 1, integer: true });
    this.cacheSize = checkNumberOption("Server", "cacheSize", options.cacheSize ?? 1000, { min: 1, integer: true });
    this.recentOps = checkNumberOption("Server", "recentOps", options.recentOps ?? 200, { min: 0, integer: true });
    this.maxSeqJump = checkNumberOption("Server", "maxSeqJump", options.maxSeqJump ?? DEFAULT_MAX_SEQ_JUMP, { min: 1, integer: true });
    this.maxDocumentSize = checkNumberOption("Server", "maxDocumentSize", options.maxDocumentSize ?? DEFAULT_MAX_DOCUMENT_SIZE, { min: 1, integer: true, infinite: true });
    this.logger = options.logger ?? silentLogger;
  }

  /** Make documents of `type.name` usable. Registering a name again replaces the type. */
  registerType(type: AnyOTType): void {
    if (typeof type?.name !== "string" || type.name === "") {
      throw new TypeError("Server.registerType: the type needs a non-empty `name`");
    }
    this.types.set(type.name, type);
  }

  /** The registered type called `name`, if any. */
  getType(name: string): AnyOTType | undefined {
    return this.types.get(name);
  }

  /**
   * Create a document at revision 0. Rejects with `DocumentExistsError` when it exists,
   * and with an `OTError` (bad_message) for an invalid id or an unregistered type.
   * @param typeName @default "text"
   * @param snapshot @default the type's empty document
   */
  async createDocument(docId: string, typeName = "text", snapshot?: unknown): Promise<void> {
    if (!isValidDocId(docId)) throw badDocId(docId);
    const type = this.types.get(typeName);
    if (!type) {
      throw new OTError("bad_message", `No type "${typeName}" is registered; call server.registerType() with it first`, {
        docId,
      });
    }
    await this.store.createDocument(docId, type.name, snapshot === undefined ? type.create() : type.create(snapshot));
  }

  /** The document's current revision and snapshot. Rejects with an `OTError` (not_found) for an unknown document. */
  getDocument(docId: string): Promise<DocumentState> {
    if (!isValidDocId(docId)) return Promise.reject(badDocId(docId));
    // Submits queued after this read must not be committed before it by an earlier batch.
    this.groups.delete(docId);
    return this.queue.run(docId, async () => {
      const doc = await this.load(docId);
      await this.refresh(doc);
      return { docId, revision: doc.revision, snapshot: snapshotValue(doc.snapshot), type: doc.type };
    });
  }

  /**
   * Submit `op`, based on `revision`, to `docId`; resolves with the op as committed and its
   * revision. Without `meta` (the published OpenOT call) there is no de-duplication.
   */
  submitOperation<Op = unknown>(docId: string, op: Op, revision: number): Promise<SubmitResult<Op>>;
  /**
   * Submit with the submitter's identity: a `(clientId, seq)` already committed resolves with
   * a {@link DuplicateResult} and is not applied again (docs/protocol.md, guarantee 3).
   */
  submitOperation<Op = unknown>(
    docId: string,
    op: Op,
    revision: number,
    meta: SubmitMeta,
  ): Promise<SubmitResult<Op> | DuplicateResult>;
  submitOperation(docId: string, op: unknown, revision: number, meta: SubmitMeta = {}): Promise<SubmitResult | DuplicateResult> {
    const seq = meta.seq;
    if (!isValidDocId(docId)) return Promise.reject(badDocId(docId, seq));
    const clientId = meta.clientId;
    if (clientId !== undefined && !(typeof clientId === "string" && clientId.length > 0 && clientId.length <= MAX_META_CLIENT_ID_LENGTH)) {
      return Promise.reject(
        new OTError("bad_message", `clientId must be a string of 1 to ${MAX_META_CLIENT_ID_LENGTH} characters`, { docId }),
      );
    }
    if (seq !== undefined && !isValidSeq(seq)) {
      return Promise.reject(new OTError("bad_message", "seq must be a positive safe integer", { docId }));
    }
    const principal = clientId !== undefined && seq !== undefined ? meta.principal : undefined;
    if (principal !== undefined && !(typeof principal === "string" && principal.length > 0 && principal.length <= MAX_PRINCIPAL_LENGTH)) {
      return Promise.reject(new OTError("bad_message", `principal must be a string of 1 to ${MAX_PRINCIPAL_LENGTH} characters`, { docId }));
    }
    // Batches leave the kept-history check of each op's base to the commit (see `prepare`).
    if (this.store.commitBatch === undefined || this.store.checksKeptHistory !== true) {
      return this.queue.run(docId, () => this.submitNow(docId, op, revision, clientId, seq, principal, meta.epoch));
    }
    let group = this.groups.get(docId);
    if (group === undefined) {
      group = [];
      this.groups.set(docId, group);
    }
    let resolve!: (result: SubmitResult) => void;
    let reject!: (error: unknown) => void;
    const result = new Promise<SubmitResult | DuplicateResult>((done, fail) => {
      resolve = done;
      reject = fail;
    });
    // Settled by a batch before its own turn awaits it: its turn passes a failure on.
    result.catch(() => undefined);
    const entry: QueuedSubmit = { op, revision, clientId, seq, principal, epoch: meta.epoch, group, result, resolve, reject };
    group.push(entry);
    return this.queue.run(docId, () => this.runQueued(docId, entry));
  }

  /**
   * The queue's turn of `entry`. Unless an earlier batch committed it already, it heads its
   * group (alone in it, after one event-loop turn that lets more join): commit it with the
   * submits queued right behind it in one `commitBatch` call. Those not committed go back to the
   * group (a later batch carries on their judgement, see {@link QueuedSubmit.candidate}), and
   * the head, when not committed, takes the normal path, so refusals, duplicates and retries are
   * exactly those of a single submit.
   */
  private async runQueued(docId: string, entry: QueuedSubmit): Promise<SubmitResult | DuplicateResult> {
    const group = entry.group;
    if (group[0] !== entry) return await entry.result;
    // Alone in its group: let the rest of this event-loop turn's frames queue behind it first.
    // Several clients' frames are usually read in one poll phase, and without this the first
    // went alone and the others waited a round trip for it (bench, two instances + Redis, N = 10,
    // four interleaved pairs: +18 % ops/s; a turn costs microseconds when nothing else is due).
    if (group.length === 1) await new Promise<void>((resolve) => setImmediate(resolve));
    if (group.length > 1) {
      const batch = group.splice(0, MAX_BATCH);
      const done = await this.commitBatched(docId, batch);
      group.unshift(...batch.slice(Math.max(done, 1)));
      if (group.length === 0 && this.groups.get(docId) === group) this.groups.delete(docId);
      if (done > 0) return await entry.result;
    } else {
      group.shift();
      if (this.groups.get(docId) === group) this.groups.delete(docId);
    }
    return await this.submitNow(docId, entry.op, entry.revision, entry.clientId, entry.seq, entry.principal, entry.epoch);
  }

  /**
   * Judge `batch` in order against the document as the ones before them leave it, and commit
   * them with one `commitBatch` call (again after a lost race, with what won it caught up).
   * Stops at the first that would be refused or that the backend did not commit, except one
   * whose base the backend no longer keeps: that one is refused (`resync_required`) and the rest
   * go on. Resolves with how many of them, from the first, were settled: committed (and
   * resolved), refused for a base no longer kept (and rejected), or sent in a `commitBatch` call
   * that failed (and rejected with its error, as a single commit's caller is: they may have been
   * committed). Never rejects.
   */
  private async commitBatched(docId: string, batch: QueuedSubmit[]): Promise<number> {
    const commitBatch = this.store.commitBatch!.bind(this.store);
    let doc: CachedDocument;
    try {
      doc = await this.load(docId);
    } catch {
      return 0; // The head's normal path refuses it as a single submit would.
    }
    let done = 0;
    for (let attempt = 1; attempt <= this.maxCommitAttempts && done < batch.length; attempt++) {
      const remaining = batch.length - done;
      const prepared: PreparedSubmit[] = [];
      /** The ops of `prepared`, which each next one is transformed over. */
      const ahead: CommittedOp[] = [];
      const view: CachedDocument = { docId, type: doc.type, epoch: doc.epoch, revision: doc.revision, snapshot: doc.snapshot, recent: [] };
      for (let i = done; i < batch.length; i++) {
        const next = await this.prepare(doc, view, batch[i]!, ahead);
        if (next === undefined) break;
        prepared.push(next);
        ahead.push(next.committed);
        view.revision = next.committed.revision;
        view.snapshot = next.snapshot;
      }
      if (prepared.length === 0) break;
      let result: CommitBatchResult;
      try {
        result = await commitBatch(docId, prepared.map((p) => p.request));
        const wrong = result.committed.findIndex((revision, i) => revision !== prepared[i]?.committed.revision);
        if (wrong >= 0) {
          throw new OTError("internal", `backend committed revision ${result.committed[wrong]} where ${prepared[wrong]?.committed.revision} was expected`, { docId });
        }
      } catch (error) {
        const refused = this.lostRefusal(error, refusalOf(docId, undefined));
        for (let i = 0; i < prepared.length; i++) {
          const entry = batch[done + i]!;
          entry.reject(refused instanceof OTError ? new OTError(refused.code, refused.message, refusalOf(docId, entry.seq)) : refused);
        }
        return done + prepared.length;
      }
      for (const [i, revision] of result.committed.entries()) {
        const p = prepared[i]!;
        this.remember(doc, p.committed, p.snapshot);
        batch[done + i]!.resolve({ op: p.committed.op, revision });
      }
      done += result.committed.length;
      const stop = result.stop;
      if (stop?.status === "trimmed") {
        // The backend checked its (clientId, seq) first, in the same atomic step (see
        // CommitRequest.base): not a duplicate, and its base is no longer kept. Refuse it here as
        // its own turn would, without a round trip for that, and go on with the rest, judged
        // again without it. Under load these ops sit at the head of the queue (they waited
        // longest); sent each alone, behind a batch that stopped at it, they held up every
        // submit behind them, so more of those aged past the kept history in turn (bench, two
        // instances + Redis, 200 clients on two driver processes: one instance's batches
        // committed 7 % of the ops they carried, and 176-568 submits were refused).
        const refused = batch[done]!;
        refused.reject(
          baseTrimmed(new HistoryTrimmedError(docId, refused.revision + 1, stop.oldestKept), refused.revision, refusalOf(docId, refused.seq)),
        );
        done += 1;
        continue;
      }
      if (stop === undefined) {
        // All committed, or the next one would be refused: its turn refuses it on the normal path.
        if (prepared.length === remaining) continue;
        break;
      }
      // Only a lost race on the first is retried here, with the ops that won it caught up.
      if (
        stop.status !== "conflict" ||
        result.committed.length > 0 ||
        stop.ops === undefined ||
        stop.current <= doc.revision ||
        stop.ops.length !== stop.current - doc.revision
      ) {
        break;
      }
      try {
        this.catchUp(doc, stop.ops);
      } catch {
        break;
      }
    }
    return done;
  }

  /**
   * Judge `entry` as the normal path would once the ops `ahead` (the batch's earlier ones) are
   * committed (`view` is the document then): the revision, the op, transformed over what is
   * committed after its base and over `ahead`. The kept history of its base is checked by the
   * commit (`commitBatch` exists only with `checksKeptHistory`; see `runQueued`). What it was
   * transformed into up to `doc.revision` is kept on the entry, so a later batch carries it on
   * from there. `undefined` when it would be refused: the normal path then refuses it with its
   * own message.
   */
  private async prepare(
    doc: CachedDocument,
    view: CachedDocument,
    entry: QueuedSubmit,
    ahead: CommittedOp[],
  ): Promise<PreparedSubmit | undefined> {
    const { op, revision, clientId, seq, principal } = entry;
    if (!isValidRevision(revision) || revision > doc.revision) return undefined;
    if (entry.epoch !== undefined && doc.epoch !== undefined && entry.epoch !== doc.epoch) return undefined;
    const refusal = refusalOf(doc.docId, seq);
    const dedupe = clientId !== undefined && seq !== undefined;
    try {
      let candidate: unknown;
      if (entry.at !== undefined && entry.at <= doc.revision) {
        // Judged by an earlier batch: only what was committed since then is new to it.
        candidate = entry.candidate;
        if (entry.at < doc.revision) candidate = this.transformAll(doc, refusal, candidate, await this.opsSince(doc, entry.at));
      } else {
        const since = revision < doc.revision ? await this.opsSince(doc, revision) : [];
        // Judged as sent only with nothing before it, as the normal path judges it.
        candidate = this.judgeIncoming(doc, refusal, op, since, since.length === 0 && ahead.length === 0);
      }
      entry.candidate = candidate;
      entry.at = doc.revision;
      if (ahead.length > 0) candidate = this.transformAll(view, refusal, candidate, ahead);
      const base = view.snapshot;
      const fitted = this.judge(view, refusal, () => validateOn(view.type, base, candidate));
      const snapshot = this.judge(view, refusal, () => applyOn(view.type, base, fitted));
      this.checkSize(view, refusal, base, snapshot);
      const committed: CommittedOp = {
        revision: view.revision + 1,
        op: fitted,
        ...(clientId === undefined ? {} : { clientId }),
        ...(dedupe ? { seq } : {}),
      };
      const request = commitRequest(committed.revision, fitted, snapshot, clientId, dedupe ? seq : undefined, revision, principal, this.maxSeqJump, view.epoch);
      return { request, committed, snapshot };
    } catch {
      return undefined;
    }
  }

  /** Forget every cached document (they are reloaded on next use). */
  clearCache(): void {
    this.cache.clear();
  }

  /** Forget one cached document (it is reloaded on next use). */
  forgetDocument(docId: string): void {
    this.cache.delete(docId);
  }

  /** Whether the store answers, as last seen (see {@link ServerOptions.backendTimeoutMs}). */
  get health(): BackendHealth {
    return this.guard.health;
  }

  /**
   * Ask the store now, within the deadline, and resolve with its health. Answer a load
   * balancer's `/healthz` with it: 200 when `reachable`, 503 otherwise, so that it routes
   * around an instance that cannot reach its store.
   */
  checkHealth(): Promise<BackendHealth> {
    return this.guard.check();
  }

  /** Be told when the store becomes unreachable or answers again. Returns a function that removes the listener. */
  onHealthChange(listener: (health: BackendHealth) => void): () => void {
    return this.guard.onChange(listener);
  }

  /**
   * Recreate a lost document from a client's copy (the restore extension, docs/protocol.md
   * "Lost documents and restore"), atomically under the condition of `request.ifEpoch`: of
   * many concurrent restores exactly one wins. The copy must be a valid document of the type
   * (`bad_message` otherwise) no larger than `maxDocumentSize` (`too_large` otherwise). Resolves
   * with the backend's answer; rejects with an OTError (`bad_message`) when the backend cannot
   * restore.
   */
  async restoreDocument(docId: string, request: RestoreRequest): Promise<{ status: "restored"; epoch: string } | { status: "refused" }> {
    if (!isValidDocId(docId)) throw badDocId(docId);
    const restore = this.store.restoreDocument;
    if (restore === undefined) throw new OTError("bad_message", "this server's backend cannot restore documents", { docId });
    const type = this.types.get(request.type);
    if (!type) throw new OTError("bad_message", `No type "${request.type}" is registered; call server.registerType() with it first`, { docId });
    let snapshot: unknown;
    try {
      snapshot = type.create(request.snapshot);
    } catch (error) {
      throw new OTError("bad_message", `the restore copy is not a "${type.name}" document: ${error instanceof Error ? error.message : String(error)}`, { docId });
    }
    const size = documentSize(type, snapshot);
    if (this.maxDocumentSize !== Infinity && size > this.maxDocumentSize) {
      throw new OTError("too_large", `the restore copy of document "${docId}" is ${size} long, past the maximum of ${this.maxDocumentSize} (the server's maxDocumentSize)`, { docId });
    }
    this.groups.delete(docId);
    return await this.queue.run(docId, async () => {
      const result = await restore.call(this.store, docId, { ...request, snapshot });
      // Whatever the answer, the cached document may be of an older life now.
      this.cache.delete(docId);
      return result;
    });
  }

  /**
   * A commit that found the document gone or replaced (the store lost it, or it was restored
   * since it was cached): forget it, and ask the client to join again, which tells it what
   * happened. Other errors pass through.
   */
  private lostRefusal(error: unknown, refusal: { docId: string; seq?: number }): unknown {
    const name = (error as { name?: unknown } | null)?.name;
    if (!(error instanceof DocumentReplacedError || error instanceof DocumentNotFoundError || name === "DocumentReplacedError" || name === "DocumentNotFoundError")) {
      return error;
    }
    this.cache.delete(refusal.docId);
    return new OTError(
      "resync_required",
      `document "${refusal.docId}" was lost or created anew in storage while this op was on its way: join again`,
      refusal,
    );
  }

  private async submitNow(
    docId: string,
    op: unknown,
    revision: number,
    clientId: string | undefined,
    seq: number | undefined,
    principal: string | undefined,
    epoch: string | undefined,
  ): Promise<SubmitResult | DuplicateResult> {
    const refusal = refusalOf(docId, seq);
    const doc = await this.load(docId, seq);
    if (epoch !== undefined && doc.epoch !== undefined && epoch !== doc.epoch) {
      // The cache may be of the older life: look before refusing.
      await this.refresh(doc);
      if (epoch !== doc.epoch) {
        throw new OTError(
          "resync_required",
          `document "${docId}" was restored or created anew since this connection joined it (revision ${revision} belongs to an earlier life of it): join again`,
          refusal,
        );
      }
    }

    if (!isValidRevision(revision)) {
      throw new OTError("bad_revision", `revision must be a non-negative integer, got ${show(revision)}`, refusal);
    }
    if (revision > doc.revision) {
      // The cache may be behind other instances' commits: look before refusing.
      await this.refresh(doc);
      if (revision > doc.revision) {
        throw new OTError(
          "bad_revision",
          `revision ${revision} is ahead of document "${docId}", which is at revision ${doc.revision}`,
          refusal,
        );
      }
    }

    // De-duplication before anything else about the op: a resend is dropped whatever its base
    // revision or content. The backend's commit checks it first, atomically, so an op that gets
    // as far as the commit needs no read of its own (one Redis round trip per submit less).
    // Only a refusal for a later reason (kept history, the op itself) looks first: a duplicate
    // must not be refused for reasons that no longer matter.
    const dedupe = clientId !== undefined && seq !== undefined;
    try {
      return await this.commitChecked(doc, refusal, op, revision, clientId, seq, principal);
    } catch (error) {
      if (dedupe && error instanceof OTError && (error.code === "resync_required" || error.code === "invalid_op" || error.code === "too_large")) {
        // The client's principal comes before de-duplication too: another principal's copy of
        // the client's op is refused as such, and does not learn whether it was a duplicate.
        const bound = await this.store.getClientPrincipal?.(docId, clientId);
        if (bound !== undefined && bound !== principal) throw forbiddenClient(refusal);
        const lastSeq = await this.store.getLastSeq(docId, clientId);
        if (lastSeq !== undefined && seq <= lastSeq) return this.duplicate(doc, clientId, seq, lastSeq);
      }
      throw error;
    }
  }

  /** The rest of a submit after de-duplication's place in the check order: kept history, the op, the commit loop. */
  private async commitChecked(
    doc: CachedDocument,
    refusal: { docId: string; seq?: number },
    op: unknown,
    revision: number,
    clientId: string | undefined,
    seq: number | undefined,
    principal: string | undefined,
  ): Promise<SubmitResult | DuplicateResult> {
    const docId = doc.docId;
    const dedupe = clientId !== undefined && seq !== undefined;
    let concurrent: CommittedOp[] = [];
    if (revision < doc.revision) {
      try {
        concurrent = await this.opsSince(doc, revision);
      } catch (error) {
        throw baseTrimmed(error, revision, refusal);
      }
    }

    let candidate = this.judgeIncoming(doc, refusal, op, concurrent, concurrent.length === 0);

    for (let attempt = 1; attempt <= this.maxCommitAttempts; attempt++) {
      const base = doc.snapshot;
      const fitted = this.judge(doc, refusal, () => validateOn(doc.type, base, candidate));
      const snapshot = this.judge(doc, refusal, () => applyOn(doc.type, base, fitted));
      this.checkSize(doc, refusal, base, snapshot);
      let result: CommitResult;
      try {
        const request = commitRequest(doc.revision + 1, fitted, snapshot, clientId, dedupe ? seq : undefined, revision, principal, this.maxSeqJump, doc.epoch);
        result = await this.store.commit(docId, request);
      } catch (error) {
        // A backend that checks kept history itself (see opsSince) refuses a base no longer kept.
        throw this.lostRefusal(baseTrimmed(error, revision, refusal), refusal);
      }
      switch (result.status) {
        case "committed": {
          this.remember(doc, { revision: result.revision, op: fitted, ...(clientId === undefined ? {} : { clientId }), ...(dedupe ? { seq } : {}) }, snapshot);
          return { op: fitted, revision: result.revision };
        }
        case "duplicate":
          if (result.revision === undefined && dedupe) return this.duplicate(doc, clientId, seq, result.lastSeq);
          return { duplicate: true, lastSeq: result.lastSeq, ...(result.revision === undefined ? {} : { revision: result.revision }) };
        case "forbidden":
          throw forbiddenClient(refusal);
        case "seq_too_far":
          throw new OTError(
            "bad_message",
            `seq ${String(seq)} is more than ${this.maxSeqJump} above this client's last committed seq (${result.lastSeq}) in document "${docId}"; seq rises by one per op`,
            refusal,
          );
        case "conflict": {
          // Another instance committed first: catch up and transform over what it committed.
          this.logger.debug?.("commit conflict; transforming again", { docId, attempt, current: result.current });
          const before = doc.revision;
          let fresh: CommittedOp[];
          if (result.ops !== undefined && result.current > before && result.ops.length === result.current - before) {
            // The backend sent what was committed since, with the conflict: no reads before retrying.
            this.catchUp(doc, result.ops);
            candidate = this.transformAll(doc, refusal, fitted, result.ops);
            break;
          }
          const epochBefore = doc.epoch;
          try {
            await this.refresh(doc);
            if (doc.revision < before || doc.epoch !== epochBefore) {
              throw new OTError("resync_required", `document "${docId}" went back to revision ${doc.revision} in storage: join again`, refusal);
            }
            fresh = await this.opsSince(doc, before);
          } catch (error) {
            if (error instanceof HistoryTrimmedError) {
              throw new OTError("resync_required", `document "${docId}" moved past the kept history while committing: join again`, refusal);
            }
            throw error;
          }
          candidate = this.transformAll(doc, refusal, fitted, fresh);
          break;
        }
      }
    }
    throw new OTError(
      "internal",
      `could not commit to document "${docId}" after ${this.maxCommitAttempts} attempts because other writers kept committing first; ` +
        "resend the op (raise the server's maxCommitAttempts if this persists)",
      refusal,
    );
  }

  /**
   * Judge an incoming `op` and transform it over `concurrent` (every op committed after its base
   * revision, up to `doc.revision`). `asSent`: nothing is committed or to be committed before it,
   * so it is judged as sent against the document it was written for (a trailing retain past the
   * end is refused before normalisation drops it); otherwise its shape is checked, then its reach
   * against the length of its base revision, and it is transformed.
   */
  private judgeIncoming(
    doc: CachedDocument,
    refusal: { docId: string; seq?: number },
    op: unknown,
    concurrent: CommittedOp[],
    asSent: boolean,
  ): unknown {
    if (asSent) {
      const current = doc.snapshot;
      return this.judge(doc, refusal, () => validateOn(doc.type, current, op));
    }
    const candidate = this.judge(doc, refusal, () => (doc.type.validate ? doc.type.validate(op) : op));
    this.checkTextReach(doc, refusal, op, concurrent);
    return concurrent.length === 0 ? candidate : this.transformAll(doc, refusal, candidate, concurrent);
  }

  /** Run a type function on untrusted input; its failure is the op's fault (`invalid_op`). */
  private judge<T>(doc: CachedDocument, refusal: { docId: string; seq?: number }, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (!(error instanceof InvalidOpError)) {
        this.logger.debug?.("type function threw a non-InvalidOpError on a submitted op", { docId: doc.docId, error });
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new OTError("invalid_op", `the op does not fit document "${doc.docId}": ${reason}`, { ...refusal, cause: error });
    }
  }

  /**
   * `too_large` when `after` passes the maximum document size and is larger than `before`: a
   * document already over the maximum (the limit was lowered) may still shrink.
   */
  private checkSize(doc: CachedDocument, refusal: { docId: string; seq?: number }, before: unknown, after: unknown): void {
    const max = this.maxDocumentSize;
    if (max === Infinity) return;
    const size = documentSize(doc.type, after);
    if (size <= max || size <= documentSize(doc.type, before)) return;
    throw new OTError(
      "too_large",
      `the op would make document "${doc.docId}" ${size} long, past its maximum of ${max} (the server's maxDocumentSize); it was not applied: delete something first`,
      refusal,
    );
  }

  /**
   * A stale op is judged against the current document after transformation, where a retain
   * that reached past the end of its own base revision would go unnoticed (normalisation drops
   * trailing retains). For text, the base length is known without the base snapshot: the
   * current length minus what the ops since then added.
   */
  private checkTextReach(doc: CachedDocument, refusal: { docId: string; seq?: number }, op: unknown, since: CommittedOp[]): void {
    const current = doc.snapshot;
    if (doc.type.name !== TextType.name || !(typeof current === "string" || current instanceof LazyText)) return;
    let baseLength = current.length;
    for (const committed of since) baseLength -= textOpLengthDelta(committed.op as TextOp);
    const reach = textOpReach(op as TextOp);
    if (reach > baseLength) {
      throw new OTError(
        "invalid_op",
        `the op reaches ${reach} code units into document "${doc.docId}", which had ${baseLength} at the op's base revision`,
        refusal,
      );
    }
  }

  private transformAll(doc: CachedDocument, refusal: { docId: string; seq?: number }, op: unknown, against: CommittedOp[]): unknown {
    // TextType (by identity, as in `held`) validated `op` into normal form: transform it
    // without checking it again at every step.
    if (doc.type === (TextType as AnyOTType)) return this.judge(doc, refusal, () => transformOverCommitted(op as TextOp, against));
    let current = op;
    for (const committed of against) {
      // The incoming op is on the right: at a tie, what was committed first comes first.
      current = this.judge(doc, refusal, () => doc.type.transform(current, committed.op, "right"));
    }
    return current;
  }

  private duplicate(doc: CachedDocument, clientId: string, seq: number, lastSeq: number): DuplicateResult {
    const original = doc.recent.find((c) => c.clientId === clientId && c.seq === seq);
    return { duplicate: true, lastSeq, ...(original ? { revision: original.revision } : {}) };
  }

  /** The cached document, loading it from the backend when needed. */
  private async load(docId: string, seq?: number): Promise<CachedDocument> {
    const cached = this.cache.get(docId);
    if (cached) {
      // Move to the back: the Map's order is the least-recently-used order.
      this.cache.delete(docId);
      this.cache.set(docId, cached);
      return cached;
    }
    let record;
    let epoch: string | undefined;
    try {
      // The epoch first: should the document be replaced between the two reads, commits carry
      // the older epoch and are refused, rather than the newer one with the older content.
      if (this.store.getLineage !== undefined) epoch = (await this.store.getLineage(docId)).epoch;
      record = await this.store.getRecord(docId);
    } catch (error) {
      if (error instanceof DocumentNotFoundError || (error as { name?: unknown } | null)?.name === "DocumentNotFoundError") {
        throw new OTError(
          "not_found",
          `document "${docId}" does not exist; join it on a server that creates documents, or create it first`,
          refusalOf(docId, seq),
        );
      }
      throw error;
    }
    const type = this.types.get(record.type);
    if (!type) {
      throw new OTError(
        "internal",
        `document "${docId}" has type "${record.type}", which this server does not know; call server.registerType() with it`,
        { docId },
      );
    }
    const doc: CachedDocument = { docId, type, epoch, revision: record.v, snapshot: held(type, record.data), recent: [] };
    this.cache.set(docId, doc);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    return doc;
  }

  /** Bring a cached document up to the backend's current revision. */
  private async refresh(doc: CachedDocument): Promise<void> {
    let current: number;
    if (this.store.getLineage !== undefined) {
      // Same revision, other epoch: the document was restored or created anew since it was cached.
      const lineage: DocumentLineage = await this.store.getLineage(doc.docId);
      if (doc.epoch !== undefined && lineage.epoch !== doc.epoch) {
        await this.reload(doc);
        return;
      }
      current = lineage.revision;
    } else {
      current = await this.store.getRevision(doc.docId);
    }
    if (current === doc.revision) return;
    if (current < doc.revision) {
      // The backend is behind what this server saw committed (it lost data, e.g. a Redis
      // restart without persistence): trust the backend, it is the only source of truth.
      this.logger.warn?.("backend revision went backwards; reloading the document", {
        docId: doc.docId,
        cached: doc.revision,
        current,
      });
      await this.reload(doc);
      return;
    }
    let ops: CommittedOp[];
    try {
      ops = await this.store.getOps(doc.docId, doc.revision + 1, current);
    } catch (error) {
      if (!(error instanceof HistoryTrimmedError)) throw error;
      // Too far behind to replay: take the stored snapshot instead.
      await this.reload(doc);
      return;
    }
    this.catchUp(doc, ops);
  }

  /** Apply ops committed elsewhere to the cached document; they must continue its revisions. */
  private catchUp(doc: CachedDocument, ops: CommittedOp[]): void {
    for (const committed of ops) {
      if (committed.revision !== doc.revision + 1) {
        throw new OTError("internal", `backend returned revision ${committed.revision} where ${doc.revision + 1} was expected`, {
          docId: doc.docId,
        });
      }
      this.remember(doc, committed, applyOn(doc.type, doc.snapshot, committed.op));
    }
  }

  private async reload(doc: CachedDocument): Promise<void> {
    const epoch = this.store.getLineage === undefined ? undefined : (await this.store.getLineage(doc.docId)).epoch;
    const record = await this.store.getRecord(doc.docId);
    doc.epoch = epoch;
    doc.revision = record.v;
    doc.snapshot = held(doc.type, record.data);
    doc.recent = [];
  }

  /**
   * Ops committed after `base` up to the cached revision, from the cache when it has them.
   * Throws HistoryTrimmedError when the backend no longer keeps them, even if the cache does.
   */
  private async opsSince(doc: CachedDocument, base: number): Promise<CommittedOp[]> {
    if (base >= doc.revision) return [];
    const first = doc.recent[0];
    if (first && first.revision <= base + 1) {
      // The cache may hold ops the backend has already trimmed (its history limit can be
      // shorter than the cache). Joins are answered from the backend's history: once a join
      // got a snapshot because the ops after its revision were gone, a copy of an op based on
      // a revision that old must be refused here too, or it commits after the snapshot and
      // the edits the client rebased and resent under the same seq are dropped as its duplicate.
      // A backend that checksKeptHistory does this inside the commit, atomically (the op's base
      // goes with every attempt as `CommitRequest.base`), so there is nothing to ask here.
      if (this.store.checksKeptHistory !== true) {
        const oldest = await this.store.getOldestKeptRevision(doc.docId);
        if (base + 1 < oldest) throw new HistoryTrimmedError(doc.docId, base + 1, oldest);
      }
      return doc.recent.slice(base + 1 - first.revision);
    }
    const end = doc.revision;
    const ops = await this.store.getOps(doc.docId, base + 1, end);
    if (ops.length !== end - base) {
      throw new OTError("internal", `backend returned ${ops.length} ops for revisions ${base + 1}..${end}`, {
        docId: doc.docId,
      });
    }
    // Keep them as the recent window when they still end at the document's revision: the other
    // stale submits of a batch are then judged from memory, against the same op objects (whose
    // normal form is found once), instead of with one read each. A batch of 64 submits read
    // one by one took up to 230 ms to prepare (bench, two instances + Redis, 200 clients on two
    // driver processes), long enough for the submits behind it to age out of the kept history.
    // Its length becomes the window a commit trims to (up to RECENT_GROWTH x recentOps), so a
    // hot document whose submits arrive that stale keeps what they need in memory.
    if (this.recentOps > 0 && doc.revision === end && ops.length > doc.recent.length) {
      doc.recent = ops.slice(); // its own array: commits push onto it, and the backend's or the caller's must stay as they are
      doc.recentLimit = Math.min(Math.max(doc.recentLimit ?? this.recentOps, ops.length), this.recentOps * RECENT_GROWTH);
    }
    return ops;
  }

  private remember(doc: CachedDocument, committed: CommittedOp, snapshot: unknown): void {
    doc.revision = committed.revision;
    doc.snapshot = snapshot;
    if (this.recentOps === 0) return;
    doc.recent.push(committed);
    const limit = doc.recentLimit ?? this.recentOps;
    if (doc.recent.length > limit * 2) doc.recent = doc.recent.slice(-limit);
  }
}

/**
 * How the cache holds a document of `type`. Text documents are held as a {@link LazyText}: the
 * eager path (`TextType.apply`) copies the whole string on every commit, which made a 1 MB
 * document's commit 55 times slower than a 1 KB one's. `LazyText` validates and applies exactly
 * as `TextType` does (same refusals, same messages), so only the cost changes. The special case
 * is by identity with this package's `TextType`: a type registered under the name "text" but
 * implemented elsewhere keeps the generic path, whose behaviour is its own.
 */
function held(type: AnyOTType, snapshot: unknown): unknown {
  return type === (TextType as AnyOTType) && typeof snapshot === "string" ? LazyText.of(snapshot) : snapshot;
}

/** The snapshot a held document stands for (builds a {@link LazyText}'s string, once). */
function snapshotValue(snapshot: unknown): unknown {
  return snapshot instanceof LazyText ? snapshot.toString() : snapshot;
}

/** The size of a held document (see {@link ServerOptions.maxDocumentSize}); 0 when it cannot be measured. */
function documentSize(type: AnyOTType, snapshot: unknown): number {
  if (snapshot instanceof LazyText) return snapshot.length;
  try {
    return type.size !== undefined ? type.size(snapshot) : (JSON.stringify(snapshot)?.length ?? 0);
  } catch {
    return 0;
  }
}

/** `type.validate(op, snapshot)` on a held document (the op as it is when the type has no validate). */
function validateOn(type: AnyOTType, snapshot: unknown, op: unknown): unknown {
  if (snapshot instanceof LazyText) return snapshot.validate(op);
  return type.validate ? type.validate(op, snapshot) : op;
}

/** `type.apply(snapshot, op)` on a held document; the result is held the same way. */
function applyOn(type: AnyOTType, snapshot: unknown, op: unknown): unknown {
  return snapshot instanceof LazyText ? snapshot.apply(op as TextOp) : type.apply(snapshot, op);
}

/**
 * The backend's request. A held {@link LazyText} goes as an accessor that builds the string
 * when first read, so backends that read the snapshot only now and then (a Redis snapshot every
 * N revisions, a memory backend when the document is loaded) never pay for the other commits.
 *
 * The accessor is one shared getter defined on each request, reading the text from a hidden
 * property: an object literal with its own `get snapshot()` made a new closure, and so a new
 * hidden class, per commit. V8 keeps hidden classes in the old generation, and each one held its
 * commit's closure and, through it, that commit's document and ops: every young-generation GC
 * then copied and promoted about a tenth of all it allocated (1.2-1.7 MB per scavenge at 15,000
 * ops/s, pauses of 2-3 ms), which was the ack p99 of the hot-document benchmark.
 */
function commitRequest(
  revision: number,
  op: unknown,
  snapshot: unknown,
  clientId: string | undefined,
  seq: number | undefined,
  base: number,
  principal: string | undefined,
  maxSeqJump: number,
  epoch: string | undefined,
): CommitRequest {
  let request: CommitRequest;
  if (snapshot instanceof LazyText) {
    request = { revision, op } as CommitRequest;
    Object.defineProperty(request, HELD_TEXT, { value: snapshot });
    Object.defineProperty(request, "snapshot", HELD_TEXT_ACCESSOR);
  } else {
    request = { revision, op, snapshot };
  }
  if (clientId !== undefined) request.clientId = clientId;
  if (seq !== undefined) {
    request.seq = seq;
    request.maxSeqJump = maxSeqJump;
    if (principal !== undefined) request.principal = principal;
  }
  request.base = base;
  if (epoch !== undefined) request.epoch = epoch;
  return request;
}

/** Where a commit request keeps the held text its `snapshot` accessor builds (not enumerable). */
const HELD_TEXT: unique symbol = Symbol("held text");

/** The `snapshot` accessor of every request for a held text: the same getter each time. */
const HELD_TEXT_ACCESSOR: PropertyDescriptor = {
  get(this: { [HELD_TEXT]: LazyText }): string {
    return this[HELD_TEXT].toString();
  },
  enumerable: true,
  configurable: true,
};

/** The details of a refusal of a submit to `docId` (with its `seq`, when it has one). */
function refusalOf(docId: string, seq: number | undefined): { docId: string; seq?: number } {
  return { docId, ...(seq === undefined ? {} : { seq }) };
}

/** The refusal of an op whose client is bound to another principal in the document. */
function forbiddenClient(refusal: { docId: string; seq?: number }): OTError {
  return new OTError(
    "forbidden",
    `this clientId belongs to another user in document "${refusal.docId}": use a clientId of your own (a fresh random one per session)`,
    refusal,
  );
}

/** The refusal for an op whose base `revision` is older than the kept history (`error` itself when it is another failure). */
function baseTrimmed(error: unknown, revision: number, refusal: { docId: string; seq?: number }): unknown {
  if (!(error instanceof HistoryTrimmedError)) return error;
  return new OTError(
    "resync_required",
    `revision ${revision} is older than the history kept for document "${refusal.docId}" (oldest kept: ${error.oldestKept}): join again`,
    refusal,
  );
}

function badDocId(docId: unknown, seq?: number): OTError {
  return new OTError("bad_message", `docId must be 1 to 256 characters from [A-Za-z0-9._~:-], got ${show(docId)}`, {
    ...(seq === undefined ? {} : { seq }),
  });
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  return typeof value;
}
