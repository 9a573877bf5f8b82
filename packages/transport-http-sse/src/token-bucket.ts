/** Settings of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second (the sustained rate). */
  readonly perSecond: number;
  /** Most tokens the bucket holds (the largest burst). */
  readonly burst: number;
}

/**
 * A token bucket: `take(n)` succeeds while tokens last, and tokens refill at a steady rate up to
 * the burst size. Time comes from `now` so that tests can drive it.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly options: TokenBucketOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) {
      throw new RangeError(
        `A rate limit needs perSecond > 0 and burst >= 1; got perSecond ${options.perSecond}, burst ${options.burst}.`,
      );
    }
    this.tokens = options.burst;
    this.updatedAt = now();
  }

  /** Take `count` tokens if there are that many; returns whether it did. Takes nothing otherwise. */
  take(count: number): boolean {
    this.refill();
    if (count > this.tokens) return false;
    this.tokens -= count;
    return true;
  }

  /** Milliseconds until `count` tokens will be there (0 when they are now; Infinity above the burst). */
  waitFor(count: number): number {
    if (count > this.options.burst) return Infinity;
    this.refill();
    const missing = count - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.options.perSecond);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.perSecond) / 1000);
  }
}
