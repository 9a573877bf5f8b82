/**
 * What to do after a connection ends, as data: the close-code table of docs/protocol.md turned into
 * a function that callers can replace or wrap (partysocket's `shouldReconnectOnClose`, with a
 * delay in the answer).
 */
import { checkNumberOption, CloseCode, describeCloseCode, type TransportCloseEvent } from "@open-ot/core";

/** What the policy knows besides the close event itself. */
export interface ClosePolicyContext {
  /** Failed attempts in a row, this one included (at least 1): the number to hand to `backoff`. */
  readonly attempt: number;
  /** Connections in a row that ended with this same close code, this one included. */
  readonly sameCodeCount: number;
  /** The transport's backoff delay for retry `attempt`, in milliseconds, with a fresh random draw. */
  backoff(attempt: number): number;
  /** A uniform random draw in `[0, 1)` from the transport's random source. */
  random(): number;
  /**
   * Failures since the server last closed a connection with 1001 (going away), in the current
   * streak of failures: 0 for the 1001 itself, 1 for the first attempt after it that failed,
   * and so on. `undefined` when no 1001 ended a connection since the counters were last reset
   * (a connection that stayed up for `minUptime`, or `connect()`). Optional so that policies
   * called with contexts built elsewhere keep working; `ReconnectingTransport` always
   * sets it.
   */
  readonly sinceGoingAway?: number | undefined;
}

/** The policy's answer: reconnect after `delay` milliseconds, or stop for good saying why. */
export type CloseDecision = { readonly action: "reconnect"; readonly delay: number } | { readonly action: "stop"; readonly reason: string };

/**
 * Decides, for each connection that ended without `disconnect()` being called (and for each
 * attempt that failed), whether to reconnect and when. `maxAttempts` of the transport still
 * applies on top of it.
 */
export type ClosePolicy = (event: TransportCloseEvent, context: ClosePolicyContext) => CloseDecision;

/** Options of {@link createClosePolicy}. */
export interface ClosePolicyOptions {
  /**
   * After 1001 (server going away) the client reconnects at once, after a random delay below
   * this many milliseconds, so a fleet of clients does not hit the next server in one instant.
   * @default 1000
   */
  goingAwayMaxDelay?: number;
  /**
   * After a 1001, this many failed attempts in a row that would otherwise back off (a refused
   * or reset connection, an HTTP 503 from the instance that is shutting down, 1011) are also
   * retried after a random delay below `goingAwayMaxDelay` (full jitter), rather than with the
   * growing backoff: a server going away is most often being restarted or replaced, and is back
   * within seconds. Retrying soon spreads a crowd of clients evenly over the seconds the server
   * takes, instead of leaving a tail of clients that backed off for several seconds more. Once
   * these retries are used up, the backoff takes over at its first step. 4001, 4029 and the
   * codes that stop keep their own handling. 0: only the 1001's own retry is soon, the failures
   * after it back off (the behaviour before this option).
   * @default 8 (with the default `goingAwayMaxDelay`, about 4.5 s of retries on average, at most 9 s)
   */
  goingAwayRetries?: number;
  /** After 4001 (document or session not found), retry this many times, then stop. @default 3 */
  notFoundRetries?: number;
  /** After 4029 (rate limited), wait at least this many milliseconds (plus the backoff). @default 10000 */
  rateLimitedDelay?: number;
}

/** The defaults of {@link ClosePolicyOptions}. */
export const DEFAULT_CLOSE_POLICY: Readonly<Required<ClosePolicyOptions>> = {
  goingAwayMaxDelay: 1000,
  goingAwayRetries: 8,
  notFoundRetries: 3,
  rateLimitedDelay: 10_000,
};

/**
 * The close-code policy of docs/protocol.md ("Close codes"), driven by `describeCloseCode` from
 * @open-ot/core:
 *
 * | code | decision |
 * |---|---|
 * | 1000, 1008, 1009, 4009 | stop, with a reason that says what to change |
 * | 4003 | reconnect once, soon (`backoff(1)`), so the next attempt asks the token function for a fresh token; stop when that connection ends with 4003 too |
 * | 1001 | reconnect at once, after a small random delay (`goingAwayMaxDelay`) |
 * | 1006, 1011, anything else, within `goingAwayRetries` failures after a 1001 | the same small random delay |
 * | 4001 | reconnect with backoff `notFoundRetries` times in a row, then stop |
 * | 4029 | reconnect after `rateLimitedDelay` plus the backoff |
 * | 1006, 1011, anything else | reconnect with backoff |
 *
 * @example Never give up on 4001, keep the rest
 * ```ts
 * const base = createClosePolicy();
 * const policy: ClosePolicy = (event, ctx) =>
 *   event.code === 4001 ? { action: "reconnect", delay: ctx.backoff(ctx.attempt) } : base(event, ctx);
 * ```
 */
export function createClosePolicy(options: ClosePolicyOptions = {}): ClosePolicy {
  const goingAwayMaxDelay = nonNegative("goingAwayMaxDelay", options.goingAwayMaxDelay ?? DEFAULT_CLOSE_POLICY.goingAwayMaxDelay);
  const goingAwayRetries = nonNegative("goingAwayRetries", options.goingAwayRetries ?? DEFAULT_CLOSE_POLICY.goingAwayRetries);
  const notFoundRetries = nonNegative("notFoundRetries", options.notFoundRetries ?? DEFAULT_CLOSE_POLICY.notFoundRetries);
  const rateLimitedDelay = nonNegative("rateLimitedDelay", options.rateLimitedDelay ?? DEFAULT_CLOSE_POLICY.rateLimitedDelay);

  return (event, context) => {
    const info = describeCloseCode(event.code);
    switch (info.advice) {
      case "stop":
        return { action: "stop", reason: stopReason(event) };
      case "reconnect-now":
        return { action: "reconnect", delay: context.random() * goingAwayMaxDelay };
      case "renew-once":
        // A token that expired or was revoked: the next attempt asks the token function again
        // (WebSocketTransport and HttpSseTransport call it on every attempt). Refused with that
        // one too, the client stops rather than hammer the server with tokens it refuses.
        if (context.sameCodeCount > 1) return { action: "stop", reason: stopReason(event, context.sameCodeCount) };
        return { action: "reconnect", delay: context.backoff(1) };
      case "retry-few":
        if (context.sameCodeCount > notFoundRetries) {
          return {
            action: "stop",
            reason:
              `${describe(event)}, ${context.sameCodeCount} times in a row; gave up after ${notFoundRetries} retries ` +
              `(closePolicy notFoundRetries). Check the docId, or that the server creates documents on join.`,
          };
        }
        // The retries of one 4001 streak wait ever longer, even if other failures came between.
        return { action: "reconnect", delay: context.backoff(Math.max(context.attempt, context.sameCodeCount)) };
      case "backoff-long":
        return { action: "reconnect", delay: rateLimitedDelay + context.backoff(context.attempt) };
      case "backoff": {
        const since = context.sinceGoingAway;
        if (since === undefined) return { action: "reconnect", delay: context.backoff(context.attempt) };
        // A server that went away is expected back soon: keep retrying within the small jitter,
        // then back off from the first step (attempts before the 1001 still count, so a server
        // that keeps going away and failing does not reset the backoff's growth).
        if (since <= goingAwayRetries) return { action: "reconnect", delay: context.random() * goingAwayMaxDelay };
        return { action: "reconnect", delay: context.backoff(Math.max(1, context.attempt - goingAwayRetries)) };
      }
    }
  };
}

/** The policy with default options. */
export const defaultClosePolicy: ClosePolicy = createClosePolicy();

function describe(event: TransportCloseEvent): string {
  const info = describeCloseCode(event.code);
  const said = event.reason ? `: "${event.reason}"` : "";
  return `closed with ${event.code} (${info.meaning.replace(/\.$/, "").toLowerCase()})${said}`;
}

// Every stop says what the application can change, so that a status line can show it as is.
function stopReason(event: TransportCloseEvent, times = 1): string {
  switch (event.code) {
    case CloseCode.NORMAL:
      return `The server ${describe(event)}; not reconnecting. Call connect() to open a new connection.`;
    case CloseCode.UNAUTHORIZED:
      return (
        `The server ${describe(event)}, ${times} times in a row: the token was asked for again and refused again; ` +
        `not retrying. Give the transport a token function that returns a fresh token ` +
        `(new WebSocketTransport(url, { token: () => getToken() })), sign the user in again, and call connect().`
      );
    case CloseCode.SUPERSEDED:
      return (
        `The server ${describe(event)}; not reconnecting, so that two connections of one client do not take turns ` +
        `closing each other. Another tab or window is using this client's clientId: give each OTClient its own ` +
        `clientId (the default is a fresh random one), or call connect() to take the document back here.`
      );
    case CloseCode.POLICY_VIOLATION:
      return `The server ${describe(event)}; not reconnecting. Check that this page's origin is on the server's allow-list and that the client is not flooding it.`;
    case CloseCode.MESSAGE_TOO_BIG:
      return `The server ${describe(event)}; not reconnecting. A message exceeded the server's size limit: send smaller ops or raise the server's maximum message size.`;
    default:
      return `The server ${describe(event)}; the close policy says stop.`;
  }
}

function nonNegative(name: string, value: number): number {
  return checkNumberOption("closePolicy", name, value, { min: 0 });
}
