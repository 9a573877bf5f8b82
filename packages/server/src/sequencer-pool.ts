import { silentLogger, type Logger } from "@open-ot/core";
import { documentChannel, type CommitNotice, type IBackendAdapter, type PubSub } from "./backend.js";
import { DocumentSequencer, type DocumentSequencerOptions } from "./document-sequencer.js";

/** Options of {@link SequencerPool}. */
export interface SequencerPoolOptions {
  backend: IBackendAdapter;
  pubsub: PubSub;
  /** @default silent */
  logger?: Logger;
  /** Passed to every sequencer. @default the sequencer's defaults */
  sequencer?: Pick<DocumentSequencerOptions, "lostNoticeDelayMs" | "retryDelayMs" | "maxRetryDelayMs">;
}

interface PoolEntry {
  refs: number;
  /** Resolves to the started sequencer; rejects when it could not start. */
  readonly ready: Promise<DocumentSequencer>;
  readonly sequencer: DocumentSequencer;
}

/**
 * The sequencers of one instance, one per document that at least one local connection
 * receives. Reference counted: the last `release` of a document closes its sequencer, which
 * unsubscribes from the document's channel. Forwards the pub/sub's resubscribe signal to every
 * sequencer so each catches up from history (only those of the channels it names, if it does).
 */
export class SequencerPool {
  private readonly entries = new Map<string, PoolEntry>();
  /** Sequencers still unsubscribing; a new one for the same document waits for it. */
  private readonly closing = new Map<string, Promise<void>>();
  private readonly options: SequencerPoolOptions;
  private readonly logger: Logger;
  private readonly stopResubscribe: (() => void) | undefined;
  /** `open -> closed` */
  private state: "open" | "closed" = "open";

  constructor(options: SequencerPoolOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.stopResubscribe = options.pubsub.onResubscribe?.((channels) => {
      // A pub/sub that names the channels (one node of a Redis Cluster) spares the other documents a read.
      const only = channels === undefined ? undefined : new Set(channels);
      for (const [docId, entry] of this.entries) {
        if (only !== undefined && !only.has(documentChannel(docId))) continue;
        void entry.ready.then(
          (sequencer) => sequencer.catchUp(),
          () => undefined,
        );
      }
    });
  }

  /**
   * The started sequencer of `docId`, counting one more user. Rejects (and counts nothing)
   * when it cannot start, for example because the document does not exist.
   */
  async acquire(docId: string): Promise<DocumentSequencer> {
    if (this.state === "closed") throw new Error("SequencerPool: acquire() after close()");
    let entry = this.entries.get(docId);
    if (!entry) {
      const sequencer: DocumentSequencer = new DocumentSequencer({
        ...this.options.sequencer,
        docId,
        backend: this.options.backend,
        pubsub: this.options.pubsub,
        logger: this.logger,
        // A lost or replaced document: the next acquire starts a fresh sequencer on what the store holds now.
        onLost: () => this.forget(docId, sequencer),
      });
      // Let an earlier sequencer of this document finish unsubscribing first, so that its
      // unsubscribe cannot land after (and undo) the new subscription on a pub/sub that keeps
      // one subscription per channel.
      const previous = this.closing.get(docId) ?? Promise.resolve();
      const ready = previous.then(() => sequencer.start()).then(() => sequencer);
      entry = { refs: 0, ready, sequencer };
      this.entries.set(docId, entry);
      const created = entry;
      ready.catch(() => {
        if (this.entries.get(docId) === created) this.entries.delete(docId);
      });
    }
    entry.refs += 1;
    try {
      return await entry.ready;
    } catch (error) {
      entry.refs -= 1;
      throw error;
    }
  }

  /**
   * One user of `docId` is done; the last one closes the sequencer. With `sequencer`, only when
   * it is still the document's (a user of one that was lost and replaced has nothing to release).
   */
  release(docId: string, sequencer?: DocumentSequencer): void {
    const entry = this.entries.get(docId);
    if (!entry || (sequencer !== undefined && entry.sequencer !== sequencer)) return;
    entry.refs -= 1;
    if (entry.refs > 0) return;
    this.entries.delete(docId);
    const closed = entry.sequencer.close().catch((error: unknown) => {
      this.logger.warn?.("could not unsubscribe from a document's channel", { docId, error });
    });
    this.closing.set(docId, closed);
    void closed.then(() => {
      if (this.closing.get(docId) === closed) this.closing.delete(docId);
    });
  }

  /**
   * A commit made on this instance: hand it to the document's sequencer, if this instance has
   * one, as its own notice (see {@link DocumentSequencer.acceptLocal}). Does nothing otherwise;
   * the notice still comes by pub/sub.
   */
  acceptLocal(notice: CommitNotice): void {
    this.entries.get(notice.docId)?.sequencer.acceptLocal(notice);
  }

  /**
   * An op arrived as a duplicate of one committed earlier (`revision`, when known): the
   * document's sequencer, if any, makes sure that commit is delivered even if its notice was
   * lost (see {@link DocumentSequencer.noteDuplicate}).
   */
  noteDuplicate(docId: string, revision: number | undefined): void {
    this.entries.get(docId)?.sequencer.noteDuplicate(revision);
  }

  /**
   * The document was restored or created anew by this instance: its sequencer (if any) tells
   * its listeners and closes, and the next acquire starts afresh.
   */
  reset(docId: string, reason: string): void {
    this.entries.get(docId)?.sequencer.lose(reason);
  }

  private forget(docId: string, sequencer: DocumentSequencer): void {
    const entry = this.entries.get(docId);
    if (entry?.sequencer !== sequencer) return;
    this.entries.delete(docId);
    // Its unsubscribe is under way; a new sequencer of this document waits for it (see acquire).
    const closed = sequencer.close().catch(() => undefined);
    this.closing.set(docId, closed);
    void closed.then(() => {
      if (this.closing.get(docId) === closed) this.closing.delete(docId);
    });
  }

  /** The number of documents with a sequencer (for leak checks in tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Close every sequencer. */
  async close(): Promise<void> {
    this.state = "closed";
    this.stopResubscribe?.();
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all([...entries.map((e) => e.sequencer.close()), ...this.closing.values()]);
  }
}
