/**
 * The protocol's checks of a submit, in the protocol's order (docs/protocol.md, "Checks run in
 * this order"), written once for every submit: the document's epoch and the revision before
 * de-duplication, kept history, the op and the document's size after it. The document itself
 * (`not_found`) is checked when it is loaded; de-duplication, the client's principal and the
 * seq jump by the commit (`SubmitPipeline`).
 */
import {
  InvalidOpError,
  LazyText,
  TextType,
  isValidRevision,
  textOpLengthDelta,
  textOpReach,
  type Logger,
  type TextOp,
} from "@open-ot/core";
import type { CommittedOp } from "./backend.js";
import { commitRequest } from "./commit-request.js";
import { transformOverCommitted } from "./committed-text-ops.js";
import type { CachedDocument, DocumentCache } from "./document-cache.js";
import { applyOn, documentSize, validateOn } from "./held-document.js";
import { OTError } from "./ot-error.js";
import { baseTrimmed, show, type RefusalDetails } from "./refusals.js";
import type { AnyOTType } from "./server-types.js";
import type { PreparedSubmit, Submit } from "./submit.js";

/** What {@link SubmitChecks} needs of its server. */
export interface SubmitChecksOptions {
  readonly cache: DocumentCache;
  readonly maxDocumentSize: number;
  readonly maxSeqJump: number;
  readonly logger: Logger;
}

/** A document as it will be once the ops ahead of a submit in its batch are committed. */
export type DocumentView = Pick<CachedDocument, "docId" | "type" | "epoch" | "revision" | "snapshot">;

/** Judges submits against a cached document; every refusal is an {@link OTError}. */
export class SubmitChecks {
  constructor(private readonly options: SubmitChecksOptions) {}

  /**
   * The checks before de-duplication: the document's epoch (`resync_required`), then the
   * revision (`bad_revision`). On the submit's own turn the document is refreshed before a
   * refusal (the cache may be behind the store) and the refusal is thrown; a submit judged
   * ahead of its turn only answers false, and is refused on its own turn.
   */
  async checkPlace(doc: CachedDocument, submit: Submit, ownTurn: boolean): Promise<boolean> {
    const { epoch } = submit.identity;
    const revision = submit.base;
    const sameLife = (): boolean => epoch === undefined || doc.epoch === undefined || epoch === doc.epoch;
    const otherLife = (): OTError =>
      new OTError(
        "resync_required",
        `document "${doc.docId}" was restored or created anew since this connection joined it (revision ${revision} belongs to an earlier life of it): join again`,
        submit.refusal,
      );
    if (!sameLife()) {
      if (!ownTurn) return false;
      await this.options.cache.refresh(doc);
      if (!sameLife()) throw otherLife();
    }
    if (!isValidRevision(revision)) {
      if (!ownTurn) return false;
      throw new OTError("bad_revision", `revision must be a non-negative integer, got ${show(revision)}`, submit.refusal);
    }
    if (revision > doc.revision) {
      if (!ownTurn) return false;
      await this.options.cache.refresh(doc);
      // The refresh may have found the document in a newer life, where the revision names other content.
      if (!sameLife()) throw otherLife();
      if (revision > doc.revision) {
        throw new OTError(
          "bad_revision",
          `revision ${revision} is ahead of document "${doc.docId}", which is at revision ${doc.revision}`,
          submit.refusal,
        );
      }
    }
    return true;
  }

  /**
   * The checks after de-duplication, for a submit that passed {@link checkPlace}: kept history
   * (`resync_required`), then the op (`invalid_op`), transformed over what was committed after
   * its base and over the ops `ahead` of it in its batch, then the size (`too_large`) of the
   * document `view` it leaves (the document once `ahead` is committed). What it was transformed
   * into up to `doc.revision` is kept on the submit, so a later judgement carries it on.
   */
  async prepare(doc: CachedDocument, view: DocumentView, submit: Submit, ahead: readonly CommittedOp[]): Promise<PreparedSubmit> {
    const refusal = submit.refusal;
    let candidate: unknown;
    try {
      if (submit.at !== undefined && submit.at <= doc.revision) {
        // Judged before: only what was committed since is new to it.
        candidate = submit.candidate;
        if (submit.at < doc.revision)
          candidate = this.transformAll(doc, refusal, candidate, await this.options.cache.opsSince(doc, submit.at));
      } else {
        const since = submit.base < doc.revision ? await this.options.cache.opsSince(doc, submit.base) : [];
        // Judged as sent only with nothing committed, or to be committed, before it.
        candidate = this.judgeIncoming(doc, refusal, submit.op, since, since.length === 0 && ahead.length === 0);
      }
    } catch (error) {
      throw baseTrimmed(error, submit.base, refusal);
    }
    submit.candidate = candidate;
    submit.at = doc.revision;
    if (ahead.length > 0) candidate = this.transformAll(view, refusal, candidate, ahead);
    const before = view.snapshot;
    const fitted = this.judge(view, refusal, () => validateOn(view.type, before, candidate));
    const snapshot = this.judge(view, refusal, () => applyOn(view.type, before, fitted));
    this.checkSize(view, refusal, before, snapshot);
    const { clientId, seq, principal } = submit.identity;
    const dedupe = submit.deduplicated;
    const committed: CommittedOp = {
      revision: view.revision + 1,
      op: fitted,
      ...(clientId === undefined ? {} : { clientId }),
      ...(dedupe ? { seq } : {}),
    };
    const request = commitRequest({
      revision: committed.revision,
      op: fitted,
      snapshot,
      clientId,
      seq: dedupe ? seq : undefined,
      base: submit.base,
      principal,
      maxSeqJump: this.options.maxSeqJump,
      epoch: view.epoch,
    });
    return { submit, request, committed, snapshot };
  }

  /** After a lost race: carry the prepared op over `fresh` (what won it, now in `doc`), for the next attempt. */
  carryOver(doc: CachedDocument, prepared: PreparedSubmit, fresh: readonly CommittedOp[]): void {
    prepared.submit.candidate = this.transformAll(doc, prepared.submit.refusal, prepared.committed.op, fresh);
    prepared.submit.at = doc.revision;
  }

  /**
   * Judge an incoming `op` and transform it over `concurrent` (every op committed after its base
   * revision, up to `doc.revision`). `asSent`: nothing is committed or to be committed before it,
   * so it is judged as sent against the document it was written for (a trailing retain past the
   * end is refused before normalisation drops it); otherwise its shape is checked, then its reach
   * against the length of its base revision, and it is transformed.
   */
  private judgeIncoming(doc: CachedDocument, refusal: RefusalDetails, op: unknown, concurrent: CommittedOp[], asSent: boolean): unknown {
    if (asSent) {
      const current = doc.snapshot;
      return this.judge(doc, refusal, () => validateOn(doc.type, current, op));
    }
    const candidate = this.judge(doc, refusal, () => (doc.type.validate ? doc.type.validate(op) : op));
    this.checkTextReach(doc, refusal, op, concurrent);
    return concurrent.length === 0 ? candidate : this.transformAll(doc, refusal, candidate, concurrent);
  }

  private transformAll(doc: DocumentView, refusal: RefusalDetails, op: unknown, against: readonly CommittedOp[]): unknown {
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

  /** Run a type function on untrusted input; its failure is the op's fault (`invalid_op`). */
  private judge<T>(doc: DocumentView, refusal: RefusalDetails, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (!(error instanceof InvalidOpError)) {
        this.options.logger.debug?.("type function threw a non-InvalidOpError on a submitted op", { docId: doc.docId, error });
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new OTError("invalid_op", `the op does not fit document "${doc.docId}": ${reason}`, { ...refusal, cause: error });
    }
  }

  /**
   * `too_large` when `after` passes the maximum document size and is larger than `before`: a
   * document already over the maximum (the limit was lowered) may still shrink.
   */
  private checkSize(doc: DocumentView, refusal: RefusalDetails, before: unknown, after: unknown): void {
    const max = this.options.maxDocumentSize;
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
  private checkTextReach(doc: CachedDocument, refusal: RefusalDetails, op: unknown, since: CommittedOp[]): void {
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
}
