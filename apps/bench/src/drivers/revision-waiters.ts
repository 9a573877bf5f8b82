/**
 * A promise-returning wait for "revision reached": resolved by {@link RevisionWaiters.notify}
 * whenever the revision rises.
 */
export class RevisionWaiters {
  #waiters: { revision: number; resolve(): void }[] = [];

  /** Resolves when `notify` reports at least `revision`; at once when `current` already is. */
  wait(current: number, revision: number): Promise<void> {
    if (current >= revision) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push({ revision, resolve }));
  }

  /** The revision is now `current`. */
  notify(current: number): void {
    if (this.#waiters.length === 0) return;
    const still: { revision: number; resolve(): void }[] = [];
    for (const w of this.#waiters) {
      if (current >= w.revision) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }
}
