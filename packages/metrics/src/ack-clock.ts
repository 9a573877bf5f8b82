/**
 * Pairs each commit of this process with the delivery of its ack, in whichever order the two
 * are reported (a store's notice can come back before its reply to the commit), and tells the
 * pair's times once both are known. Bounded: past `capacity` unpaired entries, the oldest is
 * forgotten (commits whose submitter is connected elsewhere never get an ack here).
 */
export class AckClock {
  /** When each unpaired commit was sent to the store, by revision and document, oldest first. */
  private readonly commits = new Map<string, number>();
  /** When each ack that came before its commit's report was delivered. */
  private readonly early = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly onPair: (docId: string, revision: number, startedAt: number, deliveredAt: number) => void,
  ) {}

  committed(docId: string, revision: number, startedAt: number): void {
    const key = `${revision} ${docId}`;
    const deliveredAt = this.early.get(key);
    if (deliveredAt !== undefined) {
      this.early.delete(key);
      this.onPair(docId, revision, startedAt, deliveredAt);
      return;
    }
    remember(this.commits, key, startedAt, this.capacity);
  }

  acked(docId: string, revision: number, now: number): void {
    const key = `${revision} ${docId}`;
    const startedAt = this.commits.get(key);
    if (startedAt !== undefined) {
      this.commits.delete(key);
      this.onPair(docId, revision, startedAt, now);
      return;
    }
    remember(this.early, key, now, this.capacity);
  }
}

function remember(map: Map<string, number>, key: string, value: number, capacity: number): void {
  if (capacity === 0) return;
  if (map.size >= capacity) map.delete(map.keys().next().value as string);
  map.set(key, value);
}
