import { checkNumberOption } from "@open-ot/core";

/** How an {@link OTClient} spaces its retries of requests refused with a transient code. */
export interface RetryOptions {
  /** Upper bound of the first retry's delay, in milliseconds. @default 500 */
  initialDelay?: number;
  /** No delay is ever longer than this, in milliseconds. @default 15000 */
  maxDelay?: number;
  /** Uniform random numbers in `[0, 1)` for the jitter. @default Math.random */
  random?: () => number;
}

/** The defaults of {@link RetryOptions} (without `random`). */
export const DEFAULT_RETRY: Readonly<Required<Omit<RetryOptions, "random">>> = { initialDelay: 500, maxDelay: 15_000 };

/**
 * The delay before retry number `attempt` (1 for the first): exponential with full jitter, a
 * uniformly random time in `[0, min(maxDelay, initialDelay * 2^(attempt - 1)))`, so that the
 * clients of a server whose store came back do not all return in the same instant.
 */
export function retryDelay(attempt: number, random: number, initialDelay: number, maxDelay: number): number {
  const ceiling = Math.min(maxDelay, initialDelay * Math.pow(2, Math.max(0, Math.floor(attempt) - 1)));
  return ceiling * Math.min(Math.max(random, 0), 1 - Number.EPSILON);
}

/** Checked {@link RetryOptions}; throws a RangeError (a TypeError for a value that is not a number) naming the bad option. */
export function retrySettings(options: RetryOptions = {}): { initialDelay: number; maxDelay: number; random: () => number } {
  const initialDelay = checkNumberOption("OTClient", "retry.initialDelay", options.initialDelay ?? DEFAULT_RETRY.initialDelay, { min: 0 });
  const maxDelay = checkNumberOption("OTClient", "retry.maxDelay", options.maxDelay ?? DEFAULT_RETRY.maxDelay, { min: 0 });
  return { initialDelay, maxDelay, random: options.random ?? Math.random };
}
