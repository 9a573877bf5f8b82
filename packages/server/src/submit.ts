/** One op on its way through the server, from `submitOperation` to its commit or refusal. */
import type { CommittedOp, CommitRequest } from "./backend.js";
import { refusalOf, type RefusalDetails } from "./refusals.js";
import type { DuplicateResult, SubmitOutcome, SubmitResult } from "./server-types.js";

/** Who submits an op and what it expects, checked (see `Server.submitOperation`). */
export interface SubmitIdentity {
  readonly clientId: string | undefined;
  /** Only with a clientId counts for de-duplication. */
  readonly seq: number | undefined;
  /** The document's epoch the op's base revision belongs to. */
  readonly epoch: string | undefined;
  /** Only with a clientId and a seq. */
  readonly principal: string | undefined;
}

/**
 * A submit: the op, the revision it is based on, who sent it, how far it has been transformed,
 * and the promise its caller waits on. Submits to one document wait in a queue; those queued
 * back to back form a group that may commit together (see `SubmitPipeline`).
 */
export class Submit {
  /** The op as sent. */
  readonly op: unknown;
  /** The revision the op is based on, as sent (checked by the pipeline). */
  readonly base: number;
  readonly identity: SubmitIdentity;
  /** The details every refusal of this submit carries. */
  readonly refusal: RefusalDetails;
  /** Settled once: committed, a duplicate, or refused. */
  readonly outcome: Promise<SubmitOutcome>;
  /**
   * The op as judged and transformed over everything committed up to revision {@link at} (not
   * over the other ops of its batch). A later judgement carries it on from there instead of from
   * the base, so a submit that waits through many batches costs the ops committed since its last
   * judgement (docs/decisions/007).
   */
  candidate: unknown;
  /** The revision {@link candidate} is based on (unset until the submit has been judged). */
  at: number | undefined;
  /** The submits of its group not yet taken by a batch, in queue order (this one until taken). */
  group: Submit[] | undefined;
  private done = false;
  private settle!: { resolve(outcome: SubmitOutcome): void; reject(error: unknown): void };

  constructor(docId: string, op: unknown, base: number, identity: SubmitIdentity) {
    this.op = op;
    this.base = base;
    this.identity = identity;
    this.refusal = refusalOf(docId, identity.seq);
    this.outcome = new Promise<SubmitOutcome>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A batch may settle it before its caller awaits it: the caller still sees the failure.
    void this.outcome.catch(() => undefined);
  }

  get docId(): string {
    return this.refusal.docId;
  }

  /** Whether `(clientId, seq)` identifies the op, so that it is committed at most once. */
  get deduplicated(): boolean {
    return this.identity.clientId !== undefined && this.identity.seq !== undefined;
  }

  /** Whether it was committed, found a duplicate or refused. */
  get settled(): boolean {
    return this.done;
  }

  /** The submit was committed as `committed`. */
  committed(committed: CommittedOp): void {
    this.finish(() => {
      this.settle.resolve({ op: committed.op, revision: committed.revision } satisfies SubmitResult);
    });
  }

  /** `(clientId, seq)` was committed already. */
  duplicate(result: DuplicateResult): void {
    this.finish(() => {
      this.settle.resolve(result);
    });
  }

  /** Refused with `error` (an `OTError`), or failed with it. */
  refuse(error: unknown): void {
    this.finish(() => {
      this.settle.reject(error);
    });
  }

  private finish(body: () => void): void {
    if (this.done) return;
    this.done = true;
    body();
  }
}

/** A submit judged against the document as the ones before it in its batch leave it, ready to commit. */
export interface PreparedSubmit {
  readonly submit: Submit;
  readonly request: CommitRequest;
  /** The op as it will be committed, with its revision and identity. */
  readonly committed: CommittedOp;
  /** The held document after it. */
  readonly snapshot: unknown;
}
