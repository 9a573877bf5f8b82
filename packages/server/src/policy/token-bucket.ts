import { checkNumberOption } from "@open-ot/core";

/**
 * A token bucket: `capacity` tokens, refilled continuously at `ratePerSecond`. A take succeeds
 * only when the whole cost is there (a batch of n messages costs n, charged before any of them
 * is handled), so nothing passes on credit. Time comes from `now` so that tests can drive it.
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
    checkNumberOption("TokenBucket", "ratePerSecond", ratePerSecond, { min: 0, aboveMin: true });
    checkNumberOption("TokenBucket", "capacity", capacity, { min: 1 });
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Take `cost` tokens if they are all there; false (and nothing taken) if not. */
  take(cost = 1): boolean {
    this.refill();
    if (cost > this.tokens) return false;
    this.tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens are there: 0 when they are now, Infinity above the capacity. */
  waitFor(cost = 1): number {
    if (cost > this.capacity) return Infinity;
    this.refill();
    const missing = cost - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
