import { silentLogger, type Logger } from "@open-ot/core";
import {
  DocumentNotFoundError,
  HistoryTrimmedError,
  documentChannel,
  type CommitNotice,
  type CommittedOp,
  type IBackendAdapter,
  type PubSub,
} from "./backend.js";

/** Receives a document's commits from a {@link DocumentSequencer}, in revision order. */
export interface SequencerListener {
  /** Revision `notice.revision`, delivered only after every lower revision since the listener was added. */
  onCommit(notice: CommitNotice): void;
  /**
   * The sequencer could not fill a gap (the missing ops were trimmed from history) and jumped
   * to `revision`: commits up to it were skipped. Listeners must resynchronise their clients.
   */
  onReset?(revision: number): void;
  /**
   * The document was lost from the store, or restored or created anew (another epoch): nothing
   * the listener was sent still holds. The sequencer closes after telling every listener.
   */
  onLost?(reason: string): void;
}

/** Options of {@link DocumentSequencer}. */
export interface DocumentSequencerOptions {
  docId: string;
  backend: IBackendAdapter;
  pubsub: PubSub;
  /** @default silent */
  logger?: Logger;
  /**
   * After a local commit of revision r (see {@link DocumentSequencer.noteCommitted}), how long
   * to wait for r to arrive by pub/sub before reading it from history instead. @default 1000
   */
  lostNoticeDelayMs?: number;
  /** First delay before retrying a failed history read; doubles up to `maxRetryDelayMs`. @default 100 */
  retryDelayMs?: number;
  /** @default 5000 */
  maxRetryDelayMs?: number;
  /** Told once when the sequencer closes itself because the document was lost or replaced (see {@link SequencerListener.onLost}). */
  onLost?: () => void;
}

/**
 * Lifecycle: `idle -> starting -> live -> closed` (and `starting -> closed` when the start
 * fails or the sequencer is closed meanwhile; `live -> closed` also when the document is lost
 * or replaced, after telling the listeners).
 */
export type SequencerState = "idle" | "starting" | "live" | "closed";

/**
 * Gap filling: `idle -> running -> idle`; a new gap while running asks for one more pass
 * (`running -> rerun -> running`); a failed read waits (`running -> waiting -> running`).
 */
type FillState = "idle" | "running" | "rerun" | "waiting";

/**
 * Turns a document's pub/sub channel, which may lose, repeat or (across reconnects) delay
 * messages, into a gap-free, repeat-free stream of commits in revision order for the
 * connections of this instance (docs/architecture.md, "Delivery path").
 *
 * It subscribes before it reads the current revision, so no commit falls between the two; a
 * revision above the next expected one is held back while the missing ones are read from the
 * backend's history (the log is the truth, pub/sub only a hint); a revision already delivered
 * is dropped; after the pub/sub reports a resubscribe it reads whatever it may have missed.
 * A commit made on this instance counts as its own notice ({@link acceptLocal}), whichever of
 * the two comes first.
 */
export class DocumentSequencer {
  readonly docId: string;
  private readonly backend: IBackendAdapter;
  private readonly pubsub: PubSub;
  private readonly logger: Logger;
  private readonly lostNoticeDelayMs: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;

  private state: SequencerState = "idle";
  private fillState: FillState = "idle";
  /** The last revision delivered to listeners. */
  private last = 0;
  /** Highest revision known to exist (from notices or local commits); above `last` means a gap. */
  private known = 0;
  /** Notices above `last + 1`, waiting for the gap below them to be filled. */
  private readonly ahead = new Map<number, CommitNotice>();
  /** Notices that arrived while starting, before `last` was known. */
  private early: CommitNotice[] = [];
  private readonly listeners = new Set<SequencerListener>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private lostNoticeTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the lost-notice timer fires, read history even if no revision is known to be missing. */
  private fillWhenTimerFires = false;
  private failures = 0;
  /** The document's epoch when the sequencer started (backends with epochs). */
  private epoch: string | undefined;
  /** The next fill pass must first check that the document is still the one started on (after a resubscribe). */
  private checkLineage = false;
  private readonly onLostHook: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: DocumentSequencerOptions) {
    this.docId = options.docId;
    this.backend = options.backend;
    this.pubsub = options.pubsub;
    this.logger = options.logger ?? silentLogger;
    this.lostNoticeDelayMs = options.lostNoticeDelayMs ?? 1000;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5000;
    this.onLostHook = options.onLost;
  }

  /** The last revision delivered to listeners (the current revision once everything arrived). */
  get revision(): number {
    return this.last;
  }

  /** Where the sequencer is in its lifecycle. */
  get status(): SequencerState {
    return this.state;
  }

  /**
   * Subscribe to the document's channel, then read its current revision. Rejects (and the
   * sequencer is closed) when either fails, for example DocumentNotFoundError.
   */
  async start(): Promise<void> {
    if (this.state !== "idle") throw new Error(`DocumentSequencer(${this.docId}): start() called twice`);
    this.setState("starting");
    try {
      // Subscribe first: a commit made between reading the revision and subscribing would
      // otherwise be neither in the read nor on the channel.
      const unsubscribe = await this.pubsub.subscribe(documentChannel(this.docId), (notice) => this.onNotice(notice));
      // State may change while awaiting (close() during start); read it afresh.
      if (!this.inState("starting")) {
        await unsubscribe();
        throw new Error(`DocumentSequencer(${this.docId}): closed while starting`);
      }
      this.unsubscribe = unsubscribe;
      let revision: number;
      if (this.backend.getLineage !== undefined) {
        const lineage = await this.backend.getLineage(this.docId);
        revision = lineage.revision;
        this.epoch = lineage.epoch;
      } else {
        revision = await this.backend.getRevision(this.docId);
      }
      if (!this.inState("starting")) throw new Error(`DocumentSequencer(${this.docId}): closed while starting`);
      this.last = revision;
      this.known = revision;
      this.setState("live");
    } catch (error) {
      await this.close();
      throw error;
    }
    const early = this.early;
    this.early = [];
    for (const notice of early) this.accept(notice);
  }

  /**
   * Add a listener; it gets every revision after {@link revision} (read at the time of this
   * call) in order. Returns a function that removes it.
   */
  add(listener: SequencerListener): () => void {
    if (this.state !== "live") throw new Error(`DocumentSequencer(${this.docId}): add() needs a started sequencer (state: ${this.state})`);
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The number of listeners (for tests and the pool). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * A commit made on this instance, with everything its notice carries (the op as committed,
   * what `Server.submitOperation` resolved with, and the submitter's `clientId` and `seq` as
   * passed to the backend's commit). It stands for its own notice, so the submitter's ack does
   * not wait for the pub/sub round trip:
   *
   * - the next expected revision is delivered at once (and whatever it unblocks after it);
   * - a revision ahead of a gap is held like an early notice until the gap is filled, by the
   *   missing notices or, after `lostNoticeDelayMs`, from history (see {@link noteCommitted});
   * - a revision already delivered (its notice came first) is dropped.
   *
   * The notice that arrives later is then a repeat and is dropped, so every revision is
   * delivered once, in order, whichever of the two comes first. The caller must pass what was
   * committed, exactly: the log holds it at `notice.revision`, and listeners cannot tell it
   * from the notice.
   */
  acceptLocal(notice: CommitNotice): void {
    const r = notice.revision;
    if (this.state !== "live" || r <= this.last) return;
    if (r === this.last + 1) {
      if (r > this.known) this.known = r;
      this.deliver(notice);
      this.drainAhead();
      return;
    }
    // Ahead of a gap: the missing revisions' notices are normally on the way (their commits
    // came first, so were published first); read history only if they do not come.
    if (!this.ahead.has(r)) this.ahead.set(r, notice);
    this.noteCommitted(r);
  }

  /**
   * A commit of `revision` was made on this instance. Its notice is normally on the way; if it
   * has not arrived after `lostNoticeDelayMs` (a lost message and no later commit to reveal the
   * gap), it is read from history so that its submitter still gets the ack.
   */
  noteCommitted(revision: number): void {
    if (this.state !== "live" || revision <= this.last) return;
    this.known = Math.max(this.known, revision);
    this.startLostNoticeTimer();
  }

  /**
   * An op sent again arrived as a duplicate of one committed earlier: its ack went out, or goes
   * out when that commit is delivered. When the first try was answered with an error (its
   * outcome unknown, so no local commit stood for it) and the commit's notice was lost, nothing
   * else may reveal the commit: after `lostNoticeDelayMs`, history is read. `revision` is the
   * original's, when the store named it; without it one read looks for anything not delivered.
   * At most one read is pending per document, however many duplicates arrive.
   */
  noteDuplicate(revision: number | undefined): void {
    if (revision !== undefined) {
      this.noteCommitted(revision);
      return;
    }
    if (this.state !== "live") return;
    this.fillWhenTimerFires = true;
    this.startLostNoticeTimer();
  }

  private startLostNoticeTimer(): void {
    if (this.lostNoticeTimer !== undefined) return;
    this.lostNoticeTimer = setTimeout(() => {
      this.lostNoticeTimer = undefined;
      const always = this.fillWhenTimerFires;
      this.fillWhenTimerFires = false;
      if (this.state === "live" && (always || this.known > this.last)) this.requestFill();
    }, this.lostNoticeDelayMs);
    this.lostNoticeTimer.unref?.();
  }

  /**
   * Read everything committed after the last delivered revision (after a pub/sub resubscribe):
   * first check that the document is still the one this sequencer started on (the store may
   * have restarted without its data), then fill, now rather than after a pending retry's delay.
   */
  catchUp(): void {
    if (this.state !== "live") return;
    this.checkLineage = true;
    if (this.fillState === "waiting") {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.fillState = "idle";
    }
    this.requestFill();
  }

  /**
   * The document was lost, restored or created anew (seen here or told by the hub that restored
   * it): tell every listener, then close. Does nothing once closed.
   */
  lose(reason: string): void {
    if (this.state !== "live" && this.state !== "starting") return;
    this.logger.warn?.("sequencer: the document is not the one it followed any more", { docId: this.docId, reason, last: this.last });
    const listeners = [...this.listeners];
    void this.close();
    for (const listener of listeners) {
      try {
        listener.onLost?.(reason);
      } catch (error) {
        this.logger.error?.("sequencer listener threw on loss", { docId: this.docId, error });
      }
    }
    this.onLostHook?.();
  }

  /** Unsubscribe and drop every listener. Safe to call twice (both calls resolve once unsubscribed). */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.setState("closed");
    this.listeners.clear();
    this.ahead.clear();
    this.early = [];
    clearTimeout(this.retryTimer);
    clearTimeout(this.lostNoticeTimer);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    await unsubscribe?.();
  }

  private inState(state: SequencerState): boolean {
    return this.state === state;
  }

  private fillIs(state: FillState): boolean {
    return this.fillState === state;
  }

  private setState(next: SequencerState): void {
    this.logger.debug?.("sequencer state", { docId: this.docId, from: this.state, to: next });
    this.state = next;
  }

  private onNotice(notice: CommitNotice): void {
    if (this.state === "starting") this.early.push(notice);
    else if (this.state === "live") this.accept(notice);
  }

  private accept(notice: CommitNotice): void {
    if (notice.restored !== undefined) {
      if (notice.restored !== this.epoch) this.lose(`document "${this.docId}" was restored from a client's copy`);
      return;
    }
    const r = notice.revision;
    if (r <= this.last) return; // a repeat, or already read from history
    if (r > this.known) this.known = r;
    if (r === this.last + 1) {
      this.deliver(notice);
      this.drainAhead();
      return;
    }
    this.ahead.set(r, notice);
    this.requestFill();
  }

  private drainAhead(): void {
    for (let next = this.ahead.get(this.last + 1); next !== undefined; next = this.ahead.get(this.last + 1)) {
      this.ahead.delete(next.revision);
      this.deliver(next);
    }
  }

  private deliver(notice: CommitNotice): void {
    this.last = notice.revision;
    for (const listener of [...this.listeners]) {
      try {
        listener.onCommit(notice);
      } catch (error) {
        this.logger.error?.("sequencer listener threw", { docId: this.docId, revision: notice.revision, error });
      }
    }
  }

  private requestFill(): void {
    switch (this.fillState) {
      case "idle":
        void this.runFill();
        return;
      case "running":
        this.fillState = "rerun";
        return;
      case "rerun":
      case "waiting":
        return; // already going to read again
    }
  }

  /** Read from history until nothing known is missing. One pass at a time. */
  private async runFill(): Promise<void> {
    this.fillState = "running";
    try {
      for (;;) {
        if (this.checkLineage) {
          // Compare with what was delivered before the read, not after: a revision delivered
          // while the read is in flight (a notice on the subscriber connection, a local commit)
          // may be above what the store answered, and the document did not go back for that.
          const lost = await this.lineageLost(this.last);
          if (this.state !== "live") return;
          if (lost !== undefined) {
            this.lose(lost);
            return;
          }
          this.checkLineage = false;
        }
        const ops: CommittedOp[] = await this.backend.getOps(this.docId, this.last + 1);
        if (this.state !== "live") return;
        for (const op of ops) this.accept({ docId: this.docId, ...op });
        this.failures = 0;
        // requestFill() may have asked for another pass while the read was in flight.
        if (this.fillIs("rerun")) {
          this.fillState = "running";
          continue;
        }
        break;
      }
      this.fillState = "idle";
      if (this.known > this.last) {
        // The channel announced a revision the log does not show yet; look again shortly.
        this.scheduleRetry(new Error(`revision ${this.known} was announced but is not in history yet`));
      }
    } catch (error) {
      if (this.state !== "live") return;
      this.fillState = "idle";
      if (error instanceof HistoryTrimmedError) await this.reset();
      else if (isNotFound(error)) this.lose(`document "${this.docId}" is gone from the store`);
      else this.scheduleRetry(error);
    }
  }

  /**
   * Why the document is not the one this sequencer started on, or `undefined` when it is.
   * `delivered` is the last revision delivered when the read was sent: the store held it
   * then, so a lower revision in the answer means the document went back.
   */
  private async lineageLost(delivered: number): Promise<string | undefined> {
    try {
      if (this.backend.getLineage !== undefined) {
        const lineage = await this.backend.getLineage(this.docId);
        if (this.epoch !== undefined && lineage.epoch !== this.epoch) return `document "${this.docId}" was created anew in the store`;
        if (lineage.revision < delivered) return `document "${this.docId}" went back to revision ${lineage.revision} in the store`;
        return undefined;
      }
      const revision = await this.backend.getRevision(this.docId);
      return revision < delivered ? `document "${this.docId}" went back to revision ${revision} in the store` : undefined;
    } catch (error) {
      if (isNotFound(error)) return `document "${this.docId}" is gone from the store`;
      throw error;
    }
  }

  private scheduleRetry(error: unknown): void {
    this.failures += 1;
    const delay = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** (this.failures - 1));
    this.logger.warn?.("sequencer could not fill a gap from history; retrying", {
      docId: this.docId,
      last: this.last,
      known: this.known,
      delay,
      error,
    });
    this.fillState = "waiting";
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state !== "live") return;
      this.fillState = "idle";
      this.requestFill();
    }, delay);
    this.retryTimer.unref?.();
  }

  /** The ops of a gap were trimmed: jump to the current revision and tell listeners. */
  private async reset(): Promise<void> {
    let revision: number;
    try {
      revision = await this.backend.getRevision(this.docId);
    } catch (error) {
      this.scheduleRetry(error);
      return;
    }
    if (this.state !== "live" || revision <= this.last) return;
    this.logger.warn?.("sequencer skipped trimmed history", { docId: this.docId, from: this.last, to: revision });
    this.last = revision;
    this.known = Math.max(this.known, revision);
    for (const r of [...this.ahead.keys()]) if (r <= revision) this.ahead.delete(r);
    for (const listener of [...this.listeners]) {
      try {
        listener.onReset?.(revision);
      } catch (error) {
        this.logger.error?.("sequencer listener threw on reset", { docId: this.docId, error });
      }
    }
    this.drainAhead();
    if (this.known > this.last) this.requestFill();
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof DocumentNotFoundError || (error as { name?: unknown } | null)?.name === "DocumentNotFoundError";
}
