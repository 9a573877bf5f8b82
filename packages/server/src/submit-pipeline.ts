/**
 * How submits reach the store: one at a time per document, and with a store that commits
 * batches, the submits queued on a document together. One submit is a batch of one.
 */
import type { Logger } from "@open-ot/core";
import { HistoryTrimmedError, type CommitBatchResult, type CommitResult, type CommittedOp, type IBackendAdapter } from "./backend.js";
import type { CachedDocument, DocumentCache } from "./document-cache.js";
import { KeyedQueue } from "./keyed-queue.js";
import { OTError } from "./ot-error.js";
import { baseTrimmed, forbiddenClient, isLostDocument, lostRefusal } from "./refusals.js";
import type { DuplicateResult, SubmitOutcome } from "./server-types.js";
import type { DocumentView, SubmitChecks } from "./submit-checks.js";
import type { PreparedSubmit, Submit } from "./submit.js";

/** What {@link SubmitPipeline} needs of its server. */
export interface SubmitPipelineOptions {
  readonly store: IBackendAdapter;
  readonly cache: DocumentCache;
  readonly checks: SubmitChecks;
  readonly maxCommitAttempts: number;
  readonly maxSeqJump: number;
  readonly logger: Logger;
}

/** The most ops committed in one {@link IBackendAdapter.commitBatch} call. */
const MAX_BATCH = 64;

/** Refusals for a reason after de-duplication in the check order: a duplicate takes precedence over them. */
const AFTER_DEDUPLICATION: ReadonlySet<string> = new Set(["resync_required", "invalid_op", "too_large"]);

/** A stop of a batch: why the store did not commit one of its submits. */
type Stop = NonNullable<CommitBatchResult["stop"]>;

/**
 * Serialises the submits to each document and commits them. With a store that has
 * `commitBatch` and `checksKeptHistory`, the submits queued on a document back to back form a
 * group, and a submit's turn commits it with those queued right behind it in one call
 * (docs/decisions/007, 022); otherwise each turn is a batch of one, committed with `commit`.
 *
 * A turn judges its batch in order, each submit against the document as the ones before it
 * leave it (see {@link SubmitChecks}), and commits the longest prefix that passes. Only the
 * submit whose turn it is (the head) is refused by its checks; another that fails them ends the
 * batch and is judged again on its own turn. The head's turn always settles it; the others
 * settled by the batch are those committed, those whose base the store no longer keeps, and
 * those of a commit call that failed.
 */
export class SubmitPipeline {
  private readonly queue = new KeyedQueue();
  /** Per document, the group later submits join. */
  private readonly groups = new Map<string, Submit[]>();

  constructor(private readonly options: SubmitPipelineOptions) {}

  /** Queue `submit` on its document; resolves or rejects as it is settled. */
  submit(submit: Submit): Promise<SubmitOutcome> {
    const { store } = this.options;
    const docId = submit.docId;
    // Batches leave the kept-history check of each op's base to the commit.
    if (store.commitBatch === undefined || store.checksKeptHistory !== true) return this.queue.run(docId, () => this.turn([submit]));
    let group = this.groups.get(docId);
    if (group === undefined) {
      group = [];
      this.groups.set(docId, group);
    }
    group.push(submit);
    submit.group = group;
    return this.queue.run(docId, () => this.turnInGroup(submit));
  }

  /** Run `task` on the document's queue: after the submits queued before it, before those queued after it. */
  exclusive<T>(docId: string, task: () => Promise<T>): Promise<T> {
    // Submits queued after it must not be committed before it by an earlier batch.
    this.groups.delete(docId);
    return this.queue.run(docId, task);
  }

  /** The queue's turn of a submit in a group: it heads its group unless a batch settled it already. */
  private async turnInGroup(submit: Submit): Promise<SubmitOutcome> {
    const group = submit.group!;
    if (group[0] !== submit) return await submit.outcome;
    // Alone: let the rest of this event-loop turn's frames queue behind it first (docs/decisions/007).
    if (group.length === 1) await new Promise<void>((resolve) => setImmediate(resolve));
    const batch = group.splice(0, MAX_BATCH);
    await this.runTurn(batch);
    group.unshift(...batch.filter((s) => !s.settled));
    if (group.length === 0 && this.groups.get(submit.docId) === group) this.groups.delete(submit.docId);
    return await submit.outcome;
  }

  /** The queue's turn of a submit alone: a batch of one. */
  private async turn(batch: Submit[]): Promise<SubmitOutcome> {
    await this.runTurn(batch);
    return await batch[0]!.outcome;
  }

  /** Commit `batch` (its head's turn); settles the head, whatever happens, and never rejects. */
  private async runTurn(batch: Submit[]): Promise<void> {
    try {
      await this.commitTurn(batch);
    } catch (error) {
      batch[0]!.refuse(error);
    }
  }

  /**
   * Judge and commit `batch`, again after a lost race with what won it caught up. A stop at the
   * head of a batch of several makes the head go on alone: its stop is then answered as a
   * single submit's is. A head that loses the race `maxCommitAttempts` times is refused.
   */
  private async commitTurn(batch: Submit[]): Promise<void> {
    const head = batch[0]!;
    const { cache, maxCommitAttempts } = this.options;
    const doc = await cache.load(head.docId, head.identity.seq);
    let done = 0;
    let end = batch.length;
    for (let attempt = 1; done < end; attempt++) {
      if (attempt > maxCommitAttempts) {
        if (head.settled) return;
        if (end > 1) {
          [end, attempt] = [1, 0];
          continue;
        }
        head.refuse(
          new OTError(
            "internal",
            `could not commit to document "${doc.docId}" after ${maxCommitAttempts} attempts because other writers kept committing first; ` +
              "resend the op (raise the server's maxCommitAttempts if this persists)",
            head.refusal,
          ),
        );
        return;
      }
      const prepared = await this.prepare(doc, batch.slice(done, end), head);
      if (prepared.length === 0) return;
      let result: CommitBatchResult;
      try {
        result = await this.commitPrepared(doc, prepared);
      } catch (error) {
        // They may have been committed: a resend with the same (clientId, seq) is safe.
        if (isLostDocument(error)) cache.forget(doc.docId);
        for (const p of prepared) if (p.submit !== head) p.submit.refuse(lostRefusal(error, p.submit.refusal));
        if (prepared[0]!.submit === head) await this.refuse(doc, head, head, lostRefusal(error, head.refusal));
        return;
      }
      for (const p of prepared.slice(0, result.committed.length)) {
        cache.remember(doc, p.committed, p.snapshot);
        p.submit.committed(p.committed);
      }
      done += result.committed.length;
      const stop = result.stop;
      if (stop === undefined) {
        // All committed; or the next failed its checks, and is judged again on its own turn.
        if (done < end) return;
        continue;
      }
      const stopped = prepared[result.committed.length]!;
      if (stop.status === "trimmed") {
        // The store checked its duplicate first, in the same atomic step (docs/decisions/008).
        const error = new HistoryTrimmedError(doc.docId, stopped.submit.base + 1, stop.oldestKept);
        await this.refuse(doc, stopped.submit, head, baseTrimmed(error, stopped.submit.base, stopped.submit.refusal));
        done += 1;
        continue;
      }
      if (stopped.submit !== head) return;
      if (stop.status === "conflict") {
        this.options.logger.debug?.("commit conflict; transforming again", { docId: doc.docId, attempt, current: stop.current });
        try {
          await this.catchUp(doc, stopped, stop);
        } catch (error) {
          await this.refuse(doc, head, head, error);
          return;
        }
        continue;
      }
      if (prepared.length > 1) {
        [end, attempt] = [1, 0];
        continue;
      }
      this.answerStop(doc, head, stop);
      return;
    }
  }

  /**
   * Judge `submits` in order, each against the document as the ones before it leave it; stop at
   * the first that fails its checks (refusing it when it is `head`, on its own turn).
   */
  private async prepare(doc: CachedDocument, submits: Submit[], head: Submit): Promise<PreparedSubmit[]> {
    const { checks } = this.options;
    const prepared: PreparedSubmit[] = [];
    /** The ops of `prepared`, which each next one is transformed over. */
    const ahead: CommittedOp[] = [];
    for (const submit of submits) {
      const ownTurn = submit === head;
      try {
        if (!(await checks.checkPlace(doc, submit, ownTurn))) break;
      } catch (error) {
        submit.refuse(error); // before de-duplication in the check order
        break;
      }
      const last = prepared.at(-1);
      const view: DocumentView =
        last === undefined
          ? doc
          : { docId: doc.docId, type: doc.type, epoch: doc.epoch, revision: last.committed.revision, snapshot: last.snapshot };
      try {
        const next = await checks.prepare(doc, view, submit, ahead);
        prepared.push(next);
        ahead.push(next.committed);
      } catch (error) {
        if (ownTurn) await this.refuse(doc, submit, head, error);
        break;
      }
    }
    return prepared;
  }

  /** One `commit` for a batch of one, else one `commitBatch`, answered as a batch's result. */
  private async commitPrepared(doc: CachedDocument, prepared: PreparedSubmit[]): Promise<CommitBatchResult> {
    const { store } = this.options;
    let result: CommitBatchResult;
    if (prepared.length === 1) {
      let single: CommitResult;
      try {
        single = await store.commit(doc.docId, prepared[0]!.request);
      } catch (error) {
        if (!(error instanceof HistoryTrimmedError)) throw error;
        return { committed: [], stop: { status: "trimmed", oldestKept: error.oldestKept } };
      }
      result = single.status === "committed" ? { committed: [single.revision] } : { committed: [], stop: single };
    } else {
      result = await store.commitBatch!(
        doc.docId,
        prepared.map((p) => p.request),
      );
    }
    const wrong = result.committed.findIndex((revision, i) => revision !== prepared[i]?.committed.revision);
    if (wrong >= 0) {
      throw new OTError(
        "internal",
        `backend committed revision ${result.committed[wrong]} where ${prepared[wrong]?.committed.revision} was expected`,
        {
          docId: doc.docId,
        },
      );
    }
    return result;
  }

  /** After a lost race: catch `doc` up with what won it and carry `first`'s op over that. */
  private async catchUp(doc: CachedDocument, first: PreparedSubmit, stop: Extract<Stop, { status: "conflict" }>): Promise<void> {
    const { cache, checks } = this.options;
    const before = doc.revision;
    const refusal = first.submit.refusal;
    if (stop.ops !== undefined && stop.current > before && stop.ops.length === stop.current - before) {
      // The store sent what was committed since, with the conflict: no reads before retrying.
      cache.catchUp(doc, stop.ops);
      checks.carryOver(doc, first, stop.ops);
      return;
    }
    const epochBefore = doc.epoch;
    try {
      await cache.refresh(doc);
      if (doc.revision < before || doc.epoch !== epochBefore) {
        throw new OTError(
          "resync_required",
          `document "${doc.docId}" went back to revision ${doc.revision} in storage: join again`,
          refusal,
        );
      }
      checks.carryOver(doc, first, await cache.opsSince(doc, before));
    } catch (error) {
      if (!(error instanceof HistoryTrimmedError)) throw error;
      throw new OTError("resync_required", `document "${doc.docId}" moved past the kept history while committing: join again`, refusal);
    }
  }

  /** A single submit's answer to the store's refusal to commit it. */
  private answerStop(doc: CachedDocument, submit: Submit, stop: Exclude<Stop, { status: "trimmed" | "conflict" }>): void {
    switch (stop.status) {
      case "duplicate":
        submit.duplicate(this.duplicateOf(doc, submit, stop.lastSeq, stop.revision));
        return;
      case "forbidden":
        submit.refuse(forbiddenClient(submit.refusal));
        return;
      case "seq_too_far":
        submit.refuse(
          new OTError(
            "bad_message",
            `seq ${String(submit.identity.seq)} is more than ${this.options.maxSeqJump} above this client's last committed seq (${stop.lastSeq}) in document "${doc.docId}"; seq rises by one per op`,
            submit.refusal,
          ),
        );
    }
  }

  /**
   * Refuse `submit` with `error`. On the head's own turn, a refusal for a reason after
   * de-duplication looks first (docs/protocol.md, reading 27): a duplicate is answered as one,
   * and another principal's copy of the client's op is `forbidden` without learning whether it
   * was a duplicate.
   */
  private async refuse(doc: CachedDocument, submit: Submit, head: Submit, error: unknown): Promise<void> {
    const { clientId, seq, principal } = submit.identity;
    if (submit === head && clientId !== undefined && seq !== undefined && error instanceof OTError && AFTER_DEDUPLICATION.has(error.code)) {
      const { store } = this.options;
      const bound = await store.getClientPrincipal?.(doc.docId, clientId);
      if (bound !== undefined && bound !== principal) {
        submit.refuse(forbiddenClient(submit.refusal));
        return;
      }
      const lastSeq = await store.getLastSeq(doc.docId, clientId);
      if (lastSeq !== undefined && seq <= lastSeq) {
        submit.duplicate(this.duplicateOf(doc, submit, lastSeq, undefined));
        return;
      }
    }
    submit.refuse(error);
  }

  /** The answer to a duplicate, with the original's revision when the store or the cache knows it. */
  private duplicateOf(doc: CachedDocument, submit: Submit, lastSeq: number, revision: number | undefined): DuplicateResult {
    const { clientId, seq } = submit.identity;
    if (revision === undefined && clientId !== undefined && seq !== undefined)
      revision = this.options.cache.findRecent(doc, clientId, seq)?.revision;
    return { duplicate: true, lastSeq, ...(revision === undefined ? {} : { revision }) };
  }
}
