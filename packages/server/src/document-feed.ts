import type { CommitNotice, CommittedOp, IBackendAdapter } from "./backend.js";
import type { DocumentSequencer } from "./document-sequencer.js";

/** What a {@link DocumentFeed} tells its connection. */
export interface FeedSink {
  /** Send this commit (as `ack` or `op`); called with revisions rising by exactly 1. */
  emit(notice: CommitNotice): void;
  /** The feed cannot keep its order guarantee any more (history lost, backend failing): end the connection. */
  fail(reason: string, error?: unknown): void;
}

/** Options of {@link DocumentFeed}. */
export interface DocumentFeedOptions {
  docId: string;
  sequencer: DocumentSequencer;
  backend: IBackendAdapter;
  sink: FeedSink;
  /**
   * Live commits held while the replay is read; past this many they are dropped and read
   * from history instead, so a slow replay cannot grow memory without bound. @default 10000
   */
  maxBuffered?: number;
}

/**
 * `buffering -> catching-up -> live -> closed`; a gap seen while live goes back to
 * `catching-up`; any state can go to `closed`.
 */
export type FeedState = "buffering" | "catching-up" | "live" | "closed";

/**
 * One connection's view of one document: a cursor (the last revision sent) and the merge of
 * the replay read from history with the live commits of the document's sequencer.
 *
 * It registers with the sequencer before anything is read, buffers live commits while the
 * snapshot or replay is read and sent, then sends the buffered ones after it, skipping what
 * the replay already covered: revisions reach the connection rising by exactly 1, with no gap
 * and no repeat (docs/protocol.md, guarantee 1).
 */
export class DocumentFeed {
  readonly docId: string;
  readonly sequencer: DocumentSequencer;
  private readonly backend: IBackendAdapter;
  private readonly sink: FeedSink;
  private readonly maxBuffered: number;
  private state: FeedState = "buffering";
  /** The last revision sent to the connection. */
  private cursor = -1;
  /** Live commits held while not live, in arrival (= revision) order. */
  private buffer: CommitNotice[] = [];
  /** The highest revision the sequencer has shown this feed. */
  private highestSeen: number;
  private readonly detach: () => void;

  constructor(options: DocumentFeedOptions) {
    this.docId = options.docId;
    this.sequencer = options.sequencer;
    this.backend = options.backend;
    this.sink = options.sink;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.highestSeen = this.sequencer.revision;
    this.detach = this.sequencer.add({
      onCommit: (notice) => this.onCommit(notice),
      onReset: (revision) => {
        if (this.state !== "closed" && revision > this.cursor) {
          this.sink.fail(`lost track of document "${this.docId}" (history trimmed past revision ${this.cursor}): join again`);
        }
      },
      onLost: (reason) => {
        if (this.state === "closed") return;
        this.close();
        this.sink.fail(`${reason}: join again`);
      },
    });
  }

  /** The last revision sent (−1 before {@link start}). */
  get revision(): number {
    return this.cursor;
  }

  /** Where the feed is in its lifecycle. */
  get status(): FeedState {
    return this.state;
  }

  /**
   * The connection has been sent the document as of `revision` (a snapshot, `joined`, or
   * nothing for a root-path join). Send `replay` (ops committed after it, already read), then
   * whatever arrived meanwhile, then go live. Rejects when history cannot be read; the feed
   * has then failed its sink.
   */
  async start(revision: number, replay: readonly CommittedOp[] = []): Promise<void> {
    this.cursor = revision;
    for (const op of replay) this.offer({ docId: this.docId, ...op });
    await this.catchUp(false);
  }

  /** Stop: no more sends. Safe to call twice. */
  close(): void {
    if (this.state === "closed") return;
    this.setState("closed");
    this.buffer = [];
    this.detach();
  }

  private setState(next: FeedState): void {
    this.state = next;
  }

  private onCommit(notice: CommitNotice): void {
    if (this.state === "closed") return;
    if (notice.revision > this.highestSeen) this.highestSeen = notice.revision;
    if (this.state === "live") {
      if (this.offer(notice)) return;
      // Cannot happen with a gap-free sequencer; recover from history rather than skip.
      void this.catchUp(true).catch(() => undefined);
      return;
    }
    if (this.buffer.length < this.maxBuffered) this.buffer.push(notice);
    // Past the limit the notice is dropped: highestSeen remembers it, and catchUp reads it.
  }

  /** Send `notice` if it is the next revision; true unless it is ahead (a gap). */
  private offer(notice: CommitNotice): boolean {
    if (notice.revision <= this.cursor) return true; // already sent (replay and live overlap)
    if (notice.revision !== this.cursor + 1) return false;
    this.cursor = notice.revision;
    this.sink.emit(notice);
    return true;
  }

  /**
   * Send the buffered commits, reading from history whatever the buffer lacks, until the
   * cursor reaches everything the sequencer has shown; then go live. Between the end of a
   * read and the switch to live no commit can arrive (it is one synchronous step), so none
   * falls between the two.
   */
  private async catchUp(needRead: boolean): Promise<void> {
    this.setState("catching-up");
    try {
      for (;;) {
        if (needRead) {
          const before = this.cursor;
          const ops = await this.backend.getOps(this.docId, this.cursor + 1);
          if (this.isClosed()) return;
          for (const op of ops) if (!this.offer({ docId: this.docId, ...op })) break;
          if (this.cursor === before && this.highestSeen > this.cursor) {
            throw new Error(`history of "${this.docId}" does not show revision ${this.cursor + 1}, which was published`);
          }
        }
        const buffered = this.buffer;
        this.buffer = [];
        for (const notice of buffered) if (!this.offer(notice)) break;
        if (this.highestSeen <= this.cursor) {
          this.setState("live");
          return;
        }
        needRead = true;
      }
    } catch (error) {
      if (this.isClosed()) return;
      this.close();
      this.sink.fail(`could not read the history of document "${this.docId}"`, error);
      throw error;
    }
  }

  private isClosed(): boolean {
    return this.state === "closed";
  }
}
