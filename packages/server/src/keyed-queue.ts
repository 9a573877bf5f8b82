/**
 * Runs tasks one at a time per key, in the order they were queued; different keys run
 * concurrently. A task's failure is its caller's and does not stop the tasks behind it.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Queue `task` behind every task already queued for `key`; resolves or rejects as the task does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    // Forget the key once its last task is done, so the map does not grow with every key seen.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** The number of keys with queued or running tasks. */
  get size(): number {
    return this.tails.size;
  }
}
