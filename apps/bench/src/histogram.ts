/**
 * A latency histogram with constant memory: logarithmic buckets 1% wide, so a quantile is
 * exact to within 1% of its value whatever the number of samples. A load run records millions
 * of latencies; keeping them all (and sorting them) would cost more than the thing measured.
 */

/** Smallest value the histogram distinguishes, in milliseconds; anything below counts as this. */
const MIN_VALUE = 0.001;
/** Relative width of a bucket. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to MIN_VALUE * GROWTH^BUCKETS ≈ 24 hours; anything above lands in the last one. */
const BUCKETS = 2500;

/** A histogram as it travels over IPC or into a results file: only non-empty buckets. */
export interface HistogramData {
  /** `[bucket index, count]` for every non-empty bucket. */
  readonly buckets: readonly (readonly [number, number])[];
  /** Number of samples. */
  readonly count: number;
  /** Sum of all samples (for the mean). */
  readonly sum: number;
  /** Exact smallest sample; `Infinity` when empty. */
  readonly min: number;
  /** Exact largest sample; `-Infinity` when empty. */
  readonly max: number;
}

/** Summary figures of a histogram, in the unit of its samples (milliseconds here). */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Records non-negative samples (milliseconds) and answers quantiles to within 1%. */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Add one sample. Negative values (clock noise between processes) count as the minimum. */
  record(value: number): void {
    const v = value > MIN_VALUE ? value : MIN_VALUE;
    const index = Math.min(BUCKETS - 1, Math.floor(Math.log(v / MIN_VALUE) / LOG_GROWTH));
    this.#counts[index] = (this.#counts[index] ?? 0) + 1;
    this.#count += 1;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** Forget every sample. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
  }

  /** Add every sample of `other` (a histogram or its serialised form). */
  merge(other: Histogram | HistogramData): void {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [index, count] of data.buckets) {
      this.#counts[index] = (this.#counts[index] ?? 0) + count;
    }
    this.#count += data.count;
    this.#sum += data.sum;
    if (data.min < this.#min) this.#min = data.min;
    if (data.max > this.#max) this.#max = data.max;
  }

  /**
   * The value below which a fraction `q` (0..1) of the samples lie: the upper edge of the
   * bucket holding the q-th sample, clamped to the exact min and max. `NaN` when empty.
   */
  quantile(q: number): number {
    if (this.#count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) {
        const upper = MIN_VALUE * GROWTH ** (i + 1);
        return Math.min(this.#max, Math.max(this.#min, upper));
      }
    }
    return this.#max;
  }

  /** Count, mean, p50, p95, p99 and max (all `NaN` but the count when empty). */
  summary(): LatencySummary {
    const empty = this.#count === 0;
    return {
      count: this.#count,
      mean: empty ? Number.NaN : this.#sum / this.#count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: empty ? Number.NaN : this.#max,
    };
  }

  /** The serialisable form (for IPC and results files). */
  toJSON(): HistogramData {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.#counts[i] ?? 0;
      if (c > 0) buckets.push([i, c]);
    }
    return { buckets, count: this.#count, sum: this.#sum, min: this.#min, max: this.#max };
  }

  /** Rebuild a histogram from its serialised form. */
  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(data);
    return h;
  }
}
