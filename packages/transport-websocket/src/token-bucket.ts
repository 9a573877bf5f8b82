/**
 * A token bucket: `capacity` tokens, refilled continuously at `ratePerSecond`. Each message
 * takes one token; a batch takes one per element.
 *
 * A cost larger than the capacity would never fit, so a take succeeds whenever the bucket
 * holds `min(cost, capacity)` tokens and then subtracts the whole cost, leaving the bucket in
 * debt: a large batch passes once, and the sender then waits until the debt is repaid.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  /**
   * @param ratePerSecond - Tokens added per second.
   * @param capacity - The most tokens the bucket holds (the burst).
   * @param now - Clock in milliseconds. @default Date.now
   */
  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`TokenBucket: ratePerSecond must be a positive number, got ${ratePerSecond}.`);
    }
    if (!(capacity >= 1) || !Number.isFinite(capacity)) {
      throw new RangeError(`TokenBucket: capacity must be at least 1, got ${capacity}.`);
    }
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Take `cost` tokens if they are there; false (and nothing taken) if not. */
  take(cost = 1): boolean {
    this.refill();
    if (this.tokens < Math.min(cost, this.capacity)) return false;
    this.tokens -= cost;
    return true;
  }

  /** Tokens available now (negative while in debt). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
