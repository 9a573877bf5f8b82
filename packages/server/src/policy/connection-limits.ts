import { checkNumberOption, type NumberOptionRule } from "@open-ot/core";

/** Per-connection rate limit: a token bucket, one token per message (per element of a batch). */
export interface RateLimitOptions {
  /** Sustained messages per second. @default 100 */
  readonly messagesPerSecond?: number;
  /** Messages a connection may send at once before the sustained rate applies. @default 200 */
  readonly burst?: number;
  /**
   * Refusals in a row (no message let through between them) after which the next refusal
   * closes the connection with 4029. @default 10
   */
  readonly maxRefused?: number;
}

/**
 * The limits both bindings apply, under the same names. Counts accept `Infinity` for "no
 * limit"; every default is chosen so that a default server cannot be made to spend unbounded
 * memory, descriptors or time by one client (see each binding's README, "Security").
 */
export interface ConnectionLimitOptions {
  /**
   * The largest inbound message in bytes: a WebSocket frame (a larger one closes the
   * connection with 1009) or a POST body (answered 413).
   * @default 1048576 (1 MiB)
   */
  readonly maxMessageBytes?: number;
  /**
   * The most messages one batch (a JSON array in one frame or POST) may hold. A larger batch is
   * refused whole with one `too_large` error, never one error per element: over WebSocket the
   * connection is then closed with 1009, a POST is answered 413. At most the rate limit's
   * `burst`, so that any batch allowed here can pass the rate limit.
   * @default 200
   */
  readonly maxBatchMessages?: number;
  /**
   * Per-connection rate limit; `false` turns it off. An over-limit message or batch is refused
   * whole with one `rate_limited` (WebSocket: an `error` message; POST: 429 with
   * `Retry-After`); after `maxRefused` refusals in a row the connection is closed with 4029.
   * @default { messagesPerSecond: 100, burst: 200, maxRefused: 10 }
   */
  readonly rateLimit?: RateLimitOptions | false;
  /**
   * Bytes that may wait to be sent to one connection. A message that would take the backlog
   * past it ends the connection instead of being queued (WebSocket: close 1011; SSE: the
   * stream is cut, which the client sees as 1006); both resume from their revision. A single
   * message is always sent on an empty backlog, so a large snapshot still reaches its client.
   * @default 8388608 (8 MiB)
   */
  readonly maxBufferedBytes?: number;
  /**
   * Open connections in all (WebSocket connections and SSE streams of the bindings that share
   * this policy). Further ones are refused with 503 (in band: close 1011).
   * @default 10000
   */
  readonly maxConnections?: number;
  /**
   * Open connections per client address (an IPv6 address counts as its /64), those still
   * being admitted included. Further ones are refused with 429 (in band: close 4029). Raise it
   * when many users share one address (a company NAT) and `trustProxy` cannot tell them apart.
   * @default 64
   */
  readonly maxConnectionsPerAddress?: number;
  /**
   * Requests per client address whose token is still being checked (upgrades, event streams,
   * POSTs). Further ones are refused with 429.
   * @default 16
   */
  readonly maxPendingPerAddress?: number;
  /**
   * Bytes of request heads (target and headers) per client address held by requests whose
   * token is still being checked. Further requests are refused with 429.
   * @default 262144 (256 KiB)
   */
  readonly maxPendingBytesPerAddress?: number;
  /**
   * How long `verifyToken` may take. A check that has not settled by then is refused with 503
   * (`unavailable`; in band: close 1011), and the client retries with backoff.
   * @default 10000
   */
  readonly authTimeoutMs?: number;
}

/** The rate limit after defaults were applied. */
export interface ResolvedRateLimit {
  readonly messagesPerSecond: number;
  readonly burst: number;
  readonly maxRefused: number;
}

/** {@link ConnectionLimitOptions} after defaults were applied and checked. */
export interface ResolvedLimits {
  readonly maxMessageBytes: number;
  readonly maxBatchMessages: number;
  readonly rateLimit: ResolvedRateLimit | undefined;
  readonly maxBufferedBytes: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly maxPendingPerAddress: number;
  readonly maxPendingBytesPerAddress: number;
  readonly authTimeoutMs: number;
}

/** The defaults of {@link ConnectionLimitOptions}. */
export const DEFAULT_LIMITS: Readonly<Omit<ResolvedLimits, "rateLimit"> & { rateLimit: ResolvedRateLimit }> = {
  maxMessageBytes: 1024 * 1024,
  maxBatchMessages: 200,
  rateLimit: { messagesPerSecond: 100, burst: 200, maxRefused: 10 },
  maxBufferedBytes: 8 * 1024 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 64,
  maxPendingPerAddress: 16,
  maxPendingBytesPerAddress: 256 * 1024,
  authTimeoutMs: 10_000,
};

/** A positive number. */
const POSITIVE: NumberOptionRule = { min: 0, aboveMin: true };
/** A whole number of at least 1. */
const COUNT: NumberOptionRule = { min: 1, integer: true };
/** A whole number of at least 1, or Infinity for no limit. */
const COUNT_OR_NONE: NumberOptionRule = { ...COUNT, infinite: true };

/**
 * Apply the defaults and check every value; `who` names the caller in error messages
 * (`"attachWebSocketServer"`).
 *
 * @throws TypeError for a value that is not a number, or a `maxBatchMessages` above
 * `rateLimit.burst`; RangeError for a number out of range.
 */
export function resolveLimits(options: ConnectionLimitOptions, who: string): ResolvedLimits {
  const d = DEFAULT_LIMITS;
  const check = (name: string, value: number | undefined, fallback: number, rule: NumberOptionRule): number =>
    value === undefined ? fallback : checkNumberOption(who, name, value, rule);
  const rateLimit =
    options.rateLimit === false
      ? undefined
      : {
          messagesPerSecond: check(
            "rateLimit.messagesPerSecond",
            options.rateLimit?.messagesPerSecond,
            d.rateLimit.messagesPerSecond,
            POSITIVE,
          ),
          burst: check("rateLimit.burst", options.rateLimit?.burst, d.rateLimit.burst, COUNT),
          maxRefused: check("rateLimit.maxRefused", options.rateLimit?.maxRefused, d.rateLimit.maxRefused, { ...COUNT_OR_NONE, min: 0 }),
        };
  const maxBatchMessages = check(
    "maxBatchMessages",
    options.maxBatchMessages,
    Math.min(d.maxBatchMessages, rateLimit?.burst ?? Infinity),
    COUNT,
  );
  if (rateLimit !== undefined && maxBatchMessages > rateLimit.burst) {
    throw new TypeError(
      `${who}: maxBatchMessages (${maxBatchMessages}) is above rateLimit.burst (${rateLimit.burst}), so such a batch could never pass; lower it or raise the burst.`,
    );
  }
  return {
    maxMessageBytes: check("maxMessageBytes", options.maxMessageBytes, d.maxMessageBytes, COUNT),
    maxBatchMessages,
    rateLimit,
    maxBufferedBytes: check("maxBufferedBytes", options.maxBufferedBytes, d.maxBufferedBytes, COUNT),
    maxConnections: check("maxConnections", options.maxConnections, d.maxConnections, COUNT_OR_NONE),
    maxConnectionsPerAddress: check(
      "maxConnectionsPerAddress",
      options.maxConnectionsPerAddress,
      d.maxConnectionsPerAddress,
      COUNT_OR_NONE,
    ),
    maxPendingPerAddress: check("maxPendingPerAddress", options.maxPendingPerAddress, d.maxPendingPerAddress, COUNT_OR_NONE),
    maxPendingBytesPerAddress: check(
      "maxPendingBytesPerAddress",
      options.maxPendingBytesPerAddress,
      d.maxPendingBytesPerAddress,
      COUNT_OR_NONE,
    ),
    authTimeoutMs: check("authTimeoutMs", options.authTimeoutMs, d.authTimeoutMs, POSITIVE),
  };
}

/**
 * The one outbound rule of both bindings: a message of `bytes` may be queued behind `buffered`
 * bytes unless that passes `maxBufferedBytes`; on an empty backlog it always may.
 */
export function exceedsBacklog(buffered: number, bytes: number, maxBufferedBytes: number): boolean {
  return buffered > 0 && buffered + bytes > maxBufferedBytes;
}
