/**
 * The reconnect delay as data: a pure function of the attempt number and a random draw, so it
 * can be tested without timers and swapped for another curve (tRPC's `exponentialBackoff`,
 * ioredis's `retryStrategy`).
 */
import { checkNumberOption } from "@open-ot/core";

/**
 * Delay in milliseconds before retry number `attempt` (1 for the first retry after a failure,
 * 2 for the next failure in a row, ...), given one uniform random draw `random` in `[0, 1)`.
 * Must be pure: the same arguments always give the same delay.
 */
export type BackoffFunction = (attempt: number, random: number) => number;

/** Parameters of {@link exponentialBackoff}. */
export interface BackoffOptions {
  /** Upper bound of the first retry's delay, in milliseconds. @default 500 */
  initialDelay?: number;
  /** No delay is ever longer than this, in milliseconds. @default 30000 */
  maxDelay?: number;
  /** Growth of the upper bound per failed attempt. @default 2 */
  factor?: number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Readonly<Required<BackoffOptions>> = {
  initialDelay: 500,
  maxDelay: 30_000,
  factor: 2,
};

/**
 * Exponential backoff with full jitter: retry `n` waits a uniformly random time in
 * `[0, min(maxDelay, initialDelay * factor^(n-1)))`.
 *
 * Full jitter (rather than a fixed or "equal" jitter) spreads a crowd of clients that lost the
 * same server at the same moment over the whole window, so a restarted server is not hit by
 * all of them in the same instant.
 *
 * @throws RangeError for a negative or non-finite delay, or a factor below 1.
 */
export function exponentialBackoff(options: BackoffOptions = {}): BackoffFunction {
  const initialDelay = checkNumberOption(
    "exponentialBackoff",
    "backoff.initialDelay",
    options.initialDelay ?? DEFAULT_BACKOFF.initialDelay,
    { min: 0 },
  );
  const maxDelay = checkNumberOption("exponentialBackoff", "backoff.maxDelay", options.maxDelay ?? DEFAULT_BACKOFF.maxDelay, { min: 0 });
  const factor = checkNumberOption("exponentialBackoff", "backoff.factor", options.factor ?? DEFAULT_BACKOFF.factor, { min: 1 });
  return (attempt, random) => backoffCeiling(attempt, initialDelay, maxDelay, factor) * clampRandom(random);
}

/**
 * The upper bound of retry `attempt`'s delay: `min(maxDelay, initialDelay * factor^(attempt-1))`.
 * Attempts below 1 count as 1.
 */
export function backoffCeiling(attempt: number, initialDelay: number, maxDelay: number, factor: number): number {
  if (initialDelay === 0) return 0;
  const exponent = attempt >= 1 ? Math.floor(attempt) - 1 : 0;
  // factor^exponent overflows to Infinity after enough failures; min() keeps that harmless.
  return Math.min(maxDelay, initialDelay * Math.pow(factor, exponent));
}

function clampRandom(random: number): number {
  if (!(random >= 0)) return 0;
  return random >= 1 ? 1 - Number.EPSILON : random;
}
