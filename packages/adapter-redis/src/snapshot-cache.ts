/** A rebuilt document held in memory: its snapshot `data` at `revision`. */
export interface CachedSnapshot {
  /** The document's `nonce`: it changes when a document of the same id is created anew. */
  readonly nonce: string;
  readonly revision: number;
  readonly data: unknown;
}

/**
 * The last known snapshot of recently used documents, least recently used evicted first. It lets
 * `getRecord` read only the ops committed since, instead of the stored snapshot and every op
 * after it, so loading a document costs what changed rather than what it holds.
 *
 * Entries are shared, not copied: OT types must treat snapshots as immutable (TextType's are
 * strings).
 */
export class SnapshotCache {
  private readonly entries = new Map<string, CachedSnapshot>();

  /** @param capacity How many documents to hold; 0 disables the cache. */
  constructor(private readonly capacity: number) {}

  get(docId: string): CachedSnapshot | undefined {
    const entry = this.entries.get(docId);
    if (entry !== undefined) {
      // Re-insert to mark it most recently used (a Map iterates in insertion order).
      this.entries.delete(docId);
      this.entries.set(docId, entry);
    }
    return entry;
  }

  /** Keep `entry` unless a newer snapshot of the same document (same nonce) is held already. */
  set(docId: string, entry: CachedSnapshot): void {
    if (this.capacity <= 0) return;
    const held = this.entries.get(docId);
    if (held !== undefined && held.nonce === entry.nonce && held.revision >= entry.revision) return;
    this.entries.delete(docId);
    this.entries.set(docId, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  delete(docId: string): void {
    this.entries.delete(docId);
  }

  clear(): void {
    this.entries.clear();
  }
}
