import { CloseCode } from "@open-ot/core";
import { batchLength } from "./batch-length.js";
import type { ResolvedLimits } from "./connection-limits.js";
import { TokenBucket } from "./token-bucket.js";

/**
 * What a binding does with an inbound frame or POST, decided before any of its messages is
 * handled:
 *
 * - `pass`: hand every message to the hub.
 * - `refuse`: drop all of them and answer once with `rate_limited` (WebSocket: one `error`
 *   message; POST: 429 with `Retry-After` of `retryAfterMs`).
 * - `close`: drop all of them, answer once with `code`, then end the connection with
 *   `closeCode` (WebSocket: the error message, then the close frame; POST: the HTTP status of
 *   `code`, and the session's stream ends with `closeCode` when it is 4029).
 */
export type GateVerdict =
  | { readonly kind: "pass" }
  | { readonly kind: "refuse"; readonly code: "rate_limited"; readonly message: string; readonly retryAfterMs: number }
  | {
      readonly kind: "close";
      readonly code: "rate_limited" | "too_large";
      readonly closeCode: number;
      readonly message: string;
      readonly retryAfterMs?: number;
    };

/** A verdict that refuses: every one but `pass`. */
export type GateRefusal = Exclude<GateVerdict, { readonly kind: "pass" }>;

const PASS: GateVerdict = { kind: "pass" };

/**
 * The inbound rule of one connection, the same on both bindings: a batch of `n` messages costs
 * `n` tokens, charged whole before any of them is handled; a batch above `maxBatchMessages` is
 * refused whole; and a connection that keeps sending over the limit is closed. Whatever a
 * frame holds, it is answered with at most one error, so no frame can make the server send
 * more than it was sent.
 */
export class MessageGate {
  private readonly bucket: TokenBucket | undefined;
  /** Rate-limit refusals since a frame was last let through. */
  private refusedInARow = 0;

  constructor(
    private readonly limits: ResolvedLimits,
    now: () => number = Date.now,
  ) {
    const rate = limits.rateLimit;
    this.bucket = rate === undefined ? undefined : new TokenBucket(rate.messagesPerSecond, rate.burst, now);
  }

  /** The most messages one frame or POST may hold. */
  get maxBatchMessages(): number {
    return this.limits.maxBatchMessages;
  }

  /**
   * Judge raw frame or body text before it is parsed: the close verdict of a batch above
   * `maxBatchMessages` (counted by {@link batchLength}, without parsing), else undefined.
   */
  judgeUnparsed(data: string | Uint8Array): GateRefusal | undefined {
    const count = batchLength(data, this.limits.maxBatchMessages);
    return count > this.limits.maxBatchMessages ? this.tooLarge(count) : undefined;
  }

  /** Judge a frame or POST holding `count` messages (1 for anything that is not a JSON array). */
  judge(count: number): GateVerdict {
    const cost = Math.max(1, count);
    if (cost > this.limits.maxBatchMessages) return this.tooLarge(cost);
    const rate = this.limits.rateLimit;
    if (this.bucket === undefined || rate === undefined || this.bucket.take(cost)) {
      this.refusedInARow = 0;
      return PASS;
    }
    this.refusedInARow++;
    const retryAfterMs = this.bucket.waitFor(cost);
    const message =
      `Too many messages: a connection may send ${rate.messagesPerSecond} per second (bursts of ${rate.burst}). ` +
      `${cost === 1 ? "This message was" : `These ${cost} messages were`} dropped: slow down, then send again.`;
    if (this.refusedInARow > rate.maxRefused) {
      return {
        kind: "close",
        code: "rate_limited",
        closeCode: CloseCode.RATE_LIMITED,
        message: `${message} The connection is closed after ${rate.maxRefused + 1} refusals in a row.`,
        retryAfterMs,
      };
    }
    return { kind: "refuse", code: "rate_limited", message, retryAfterMs };
  }

  private tooLarge(count: number): GateRefusal {
    const max = this.limits.maxBatchMessages;
    return {
      kind: "close",
      code: "too_large",
      closeCode: CloseCode.MESSAGE_TOO_BIG,
      message: `The batch holds ${count > max + 1 ? count : `more than ${max}`} messages; the server takes at most ${max} in one frame or POST. Nothing of it was applied: send smaller batches.`,
    };
  }
}
