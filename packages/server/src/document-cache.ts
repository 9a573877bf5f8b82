/**
 * The server's documents in memory: the current snapshot of recently used documents and their
 * newest committed ops, kept in step with the store, so a commit neither reloads nor re-applies
 * history.
 */
import type { Logger } from "@open-ot/core";
import { HistoryTrimmedError, type CommittedOp, type IBackendAdapter } from "./backend.js";
import { applyOn, held } from "./held-document.js";
import { OTError } from "./ot-error.js";
import { isDocumentNotFound, refusalOf } from "./refusals.js";
import type { AnyOTType } from "./server-types.js";

/** A document as the server holds it. */
export interface CachedDocument {
  readonly docId: string;
  readonly type: AnyOTType;
  /** The store's epoch of the document when it was loaded (stores with epochs); commits carry it. */
  epoch: string | undefined;
  revision: number;
  /** The current document, held as `held` holds it (a `LazyText` for text). */
  snapshot: unknown;
  /** The newest committed ops, contiguous and ending at `revision` (may be empty). */
  recent: CommittedOp[];
  /**
   * How many of `recent` a commit keeps when it trims them: `recentOps`, grown (up to
   * {@link RECENT_GROWTH} times) to the longest read a stale submit needed (see `opsSince`).
   */
  recentLimit?: number;
}

/** Options of {@link DocumentCache}. */
export interface DocumentCacheOptions {
  /** The store, as the server calls it. */
  readonly store: IBackendAdapter;
  /** The server's registered types, by name. */
  readonly types: ReadonlyMap<string, AnyOTType>;
  /** How many documents are kept (least recently used are dropped). */
  readonly size: number;
  /** How many recent ops per document are kept (see `ServerOptions.recentOps`). */
  readonly recentOps: number;
  readonly logger: Logger;
}

/**
 * How far a document's recent-op window may grow past `recentOps` for stale submits: 5 x the
 * default 200 is the 1,000 ops `RedisAdapter` keeps (docs/decisions/008).
 */
const RECENT_GROWTH = 5;

/** The documents a server holds, least recently used first, and how they follow the store. */
export class DocumentCache {
  private readonly documents = new Map<string, CachedDocument>();
  private readonly store: IBackendAdapter;

  constructor(private readonly options: DocumentCacheOptions) {
    this.store = options.store;
  }

  /** The cached document, loading it from the store when needed; `not_found` (with `seq`) for an unknown one. */
  async load(docId: string, seq?: number): Promise<CachedDocument> {
    const cached = this.documents.get(docId);
    if (cached) {
      // Move to the back: the Map's order is the least-recently-used order.
      this.documents.delete(docId);
      this.documents.set(docId, cached);
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
      if (isDocumentNotFound(error)) {
        throw new OTError(
          "not_found",
          `document "${docId}" does not exist; join it on a server that creates documents, or create it first`,
          refusalOf(docId, seq),
        );
      }
      throw error;
    }
    const type = this.options.types.get(record.type);
    if (!type) {
      throw new OTError(
        "internal",
        `document "${docId}" has type "${record.type}", which this server does not know; call server.registerType() with it`,
        { docId },
      );
    }
    const doc: CachedDocument = { docId, type, epoch, revision: record.v, snapshot: held(type, record.data), recent: [] };
    this.documents.set(docId, doc);
    while (this.documents.size > this.options.size) {
      const oldest = this.documents.keys().next().value as string;
      this.documents.delete(oldest);
    }
    return doc;
  }

  /** Forget one document (it is reloaded on next use). */
  forget(docId: string): void {
    this.documents.delete(docId);
  }

  /** Forget every document. */
  clear(): void {
    this.documents.clear();
  }

  /** Bring a cached document up to the store's current revision (and epoch). */
  async refresh(doc: CachedDocument): Promise<void> {
    let current: number;
    if (this.store.getLineage !== undefined) {
      // Same revision, other epoch: the document was restored or created anew since it was cached.
      const lineage = await this.store.getLineage(doc.docId);
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
      // The store is behind what this server saw committed (it lost data, e.g. a Redis
      // restart without persistence): trust the store, it is the only source of truth.
      this.options.logger.warn?.("backend revision went backwards; reloading the document", {
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
  catchUp(doc: CachedDocument, ops: CommittedOp[]): void {
    for (const committed of ops) {
      if (committed.revision !== doc.revision + 1) {
        throw new OTError("internal", `backend returned revision ${committed.revision} where ${doc.revision + 1} was expected`, {
          docId: doc.docId,
        });
      }
      this.remember(doc, committed, applyOn(doc.type, doc.snapshot, committed.op));
    }
  }

  /**
   * Ops committed after `base` up to the cached revision, from the cache when it has them.
   * Throws HistoryTrimmedError when the store no longer keeps them, even if the cache does.
   */
  async opsSince(doc: CachedDocument, base: number): Promise<CommittedOp[]> {
    if (base >= doc.revision) return [];
    const first = doc.recent[0];
    if (first && first.revision <= base + 1) {
      // The cache may hold ops the store has already trimmed, and a join answered from the
      // store's history may have sent a snapshot instead: a copy of an op based on a revision
      // that old must be refused here too, or it commits after the snapshot and the edits the
      // client rebased and resent under the same seq are dropped as its duplicate. A store that
      // checksKeptHistory does this inside the commit, atomically (`CommitRequest.base`).
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
    // Kept as the recent window while they still end at the document's revision, so the other
    // stale submits of a batch are judged from memory, and the window a commit trims to grows to
    // their length, up to RECENT_GROWTH x recentOps (docs/decisions/008).
    const { recentOps } = this.options;
    if (recentOps > 0 && doc.revision === end && ops.length > doc.recent.length) {
      doc.recent = ops.slice(); // its own array: commits push onto it, and the store's or the caller's must stay as they are
      doc.recentLimit = Math.min(Math.max(doc.recentLimit ?? recentOps, ops.length), recentOps * RECENT_GROWTH);
    }
    return ops;
  }

  /** Record a commit of `committed`, which left the document as `snapshot`. */
  remember(doc: CachedDocument, committed: CommittedOp, snapshot: unknown): void {
    doc.revision = committed.revision;
    doc.snapshot = snapshot;
    const { recentOps } = this.options;
    if (recentOps === 0) return;
    doc.recent.push(committed);
    const limit = doc.recentLimit ?? recentOps;
    if (doc.recent.length > limit * 2) doc.recent = doc.recent.slice(-limit);
  }

  /** The first committed op of `clientId` with `seq` still in the recent window, if any. */
  findRecent(doc: CachedDocument, clientId: string, seq: number): CommittedOp | undefined {
    return doc.recent.find((c) => c.clientId === clientId && c.seq === seq);
  }

  private async reload(doc: CachedDocument): Promise<void> {
    const epoch = this.store.getLineage === undefined ? undefined : (await this.store.getLineage(doc.docId)).epoch;
    const record = await this.store.getRecord(doc.docId);
    doc.epoch = epoch;
    doc.revision = record.v;
    doc.snapshot = held(doc.type, record.data);
    doc.recent = [];
  }
}
