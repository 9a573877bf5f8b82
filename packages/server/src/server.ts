import { checkNumberOption, TextType, isValidDocId, isValidSeq, silentLogger, type Logger } from "@open-ot/core";
import type { IBackendAdapter, RestoreRequest } from "./backend.js";
import { BackendGuard, type BackendHealth } from "./backend-guard.js";
import { DocumentCache } from "./document-cache.js";
import { documentSize, snapshotValue } from "./held-document.js";
import { observeBackend } from "./metrics/observe-backend.js";
import type { ServerMetrics } from "./metrics/server-metrics.js";
import { OTError } from "./ot-error.js";
import { badDocId } from "./refusals.js";
import {
  DEFAULT_MAX_DOCUMENT_SIZE,
  type AnyOTType,
  type DocumentState,
  type DuplicateResult,
  type ServerOptions,
  type SubmitMeta,
  type SubmitResult,
} from "./server-types.js";
import { Submit } from "./submit.js";
import { SubmitChecks } from "./submit-checks.js";
import { SubmitPipeline } from "./submit-pipeline.js";

export { DEFAULT_MAX_DOCUMENT_SIZE };
export type { AnyOTType, DocumentState, DuplicateResult, ServerOptions, SubmitMeta, SubmitResult };

const MAX_META_CLIENT_ID_LENGTH = 128;
const MAX_PRINCIPAL_LENGTH = 1024;

/** See {@link ServerOptions.maxSeqJump}. */
const DEFAULT_MAX_SEQ_JUMP = 1_000_000;

/**
 * Commits ops by revision with exactly-once semantics (docs/architecture.md, "Commit path").
 *
 * `submitOperation` runs the protocol's checks in order (see `SubmitChecks`): the document
 * (`not_found`), its epoch and the revision (`resync_required`, `bad_revision`),
 * de-duplication (a duplicate resolves with `duplicate: true`), kept history
 * (`resync_required`), the op (`invalid_op`) and the document's size (`too_large`); then it
 * transforms the op against everything committed after its base revision (the incoming op on
 * the `right`), applies it to the current snapshot and commits it through the backend's
 * compare-and-set. When another instance committed first it transforms again and retries, a
 * bounded number of times. Refusals reject with an {@link OTError}; the document is then
 * unchanged.
 *
 * Submits to one document are serialised on this instance (`SubmitPipeline`). With a backend
 * that has `commitBatch` and `checksKeptHistory`, the submits queued on a document are judged
 * in order against the document as the earlier ones leave it and committed together, in one
 * backend call (at most 64 per call), with the refusals and de-duplication of single submits.
 * The current snapshot of recently used documents is cached (`DocumentCache`), so a commit
 * neither reloads nor re-applies history.
 */
export class Server {
  /** The storage this server commits to, as it was given. */
  readonly backend: IBackendAdapter;
  /** The sink given as `options.metrics`. */
  readonly metrics: ServerMetrics | undefined;
  /**
   * The same storage as the server calls it: every call has a deadline of `backendTimeoutMs`
   * and fails at once while the store is known to be unreachable (see {@link BackendGuard}),
   * and is reported to {@link metrics} when there is a sink. A `Hub` reads history
   * through it too.
   */
  readonly store: IBackendAdapter;
  /** The deadlines and health of {@link store}. */
  readonly guard: BackendGuard;
  private readonly types = new Map<string, AnyOTType>();
  private readonly cache: DocumentCache;
  private readonly pipeline: SubmitPipeline;
  private readonly maxDocumentSize: number;

  constructor(backend: IBackendAdapter, options: ServerOptions = {}) {
    this.metrics = options.metrics;
    this.backend = backend;
    this.guard = new BackendGuard(backend, {
      timeoutMs: checkNumberOption("Server", "backendTimeoutMs", options.backendTimeoutMs ?? 5_000, { min: 0, aboveMin: true }),
      probeIntervalMs: checkNumberOption("Server", "healthProbeIntervalMs", options.healthProbeIntervalMs ?? 250, {
        min: 0,
        aboveMin: true,
      }),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    const store = options.metrics === undefined ? this.guard.backend : observeBackend(this.guard.backend, options.metrics);
    this.store = store;
    for (const type of options.types ?? [TextType]) this.registerType(type);
    const maxCommitAttempts = checkNumberOption("Server", "maxCommitAttempts", options.maxCommitAttempts ?? 20, { min: 1, integer: true });
    const cacheSize = checkNumberOption("Server", "cacheSize", options.cacheSize ?? 1000, { min: 1, integer: true });
    const recentOps = checkNumberOption("Server", "recentOps", options.recentOps ?? 200, { min: 0, integer: true });
    const maxSeqJump = checkNumberOption("Server", "maxSeqJump", options.maxSeqJump ?? DEFAULT_MAX_SEQ_JUMP, { min: 1, integer: true });
    this.maxDocumentSize = checkNumberOption("Server", "maxDocumentSize", options.maxDocumentSize ?? DEFAULT_MAX_DOCUMENT_SIZE, {
      min: 1,
      integer: true,
      infinite: true,
    });
    const logger: Logger = options.logger ?? silentLogger;
    this.cache = new DocumentCache({ store, types: this.types, size: cacheSize, recentOps, logger });
    const checks = new SubmitChecks({ cache: this.cache, maxDocumentSize: this.maxDocumentSize, maxSeqJump, logger });
    this.pipeline = new SubmitPipeline({ store, cache: this.cache, checks, maxCommitAttempts, maxSeqJump, logger });
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
    const type = this.requireType(docId, typeName);
    await this.store.createDocument(docId, type.name, snapshot === undefined ? type.create() : type.create(snapshot));
  }

  /** The document's current revision and snapshot. Rejects with an `OTError` (not_found) for an unknown document. */
  getDocument(docId: string): Promise<DocumentState> {
    if (!isValidDocId(docId)) return Promise.reject(badDocId(docId));
    return this.pipeline.exclusive(docId, async () => {
      const doc = await this.cache.load(docId);
      await this.cache.refresh(doc);
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
  submitOperation<Op = unknown>(docId: string, op: Op, revision: number, meta: SubmitMeta): Promise<SubmitResult<Op> | DuplicateResult>;
  submitOperation(docId: string, op: unknown, revision: number, meta: SubmitMeta = {}): Promise<SubmitResult | DuplicateResult> {
    const { clientId, seq } = meta;
    if (!isValidDocId(docId)) return Promise.reject(badDocId(docId, seq));
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
    return this.pipeline.submit(new Submit(docId, op, revision, { clientId, seq, epoch: meta.epoch, principal }));
  }

  /** Forget every cached document (they are reloaded on next use). */
  clearCache(): void {
    this.cache.clear();
  }

  /** Forget one cached document (it is reloaded on next use). */
  forgetDocument(docId: string): void {
    this.cache.forget(docId);
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
    const restore = this.store.restoreDocument?.bind(this.store);
    if (restore === undefined) throw new OTError("bad_message", "this server's backend cannot restore documents", { docId });
    const type = this.requireType(docId, request.type);
    let snapshot: unknown;
    try {
      snapshot = type.create(request.snapshot);
    } catch (error) {
      throw new OTError(
        "bad_message",
        `the restore copy is not a "${type.name}" document: ${error instanceof Error ? error.message : String(error)}`,
        { docId },
      );
    }
    const size = documentSize(type, snapshot);
    if (this.maxDocumentSize !== Infinity && size > this.maxDocumentSize) {
      throw new OTError(
        "too_large",
        `the restore copy of document "${docId}" is ${size} long, past the maximum of ${this.maxDocumentSize} (the server's maxDocumentSize)`,
        { docId },
      );
    }
    return await this.pipeline.exclusive(docId, async () => {
      const result = await restore(docId, { ...request, snapshot });
      // Whatever the answer, the cached document may be of an older life now.
      this.cache.forget(docId);
      return result;
    });
  }

  /** The registered type `typeName`, or `bad_message` for an unregistered one. */
  private requireType(docId: string, typeName: string): AnyOTType {
    const type = this.types.get(typeName);
    if (!type) throw new OTError("bad_message", `No type "${typeName}" is registered; call server.registerType() with it first`, { docId });
    return type;
  }
}
