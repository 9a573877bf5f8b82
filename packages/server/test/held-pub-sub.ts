import type { CommitNotice, PubSub, PubSubListener } from "../src/backend.js";

/** Options of {@link HeldPubSub}. */
export interface HeldPubSubOptions {
  /**
   * Delay every message by this many milliseconds (asked once per message), keeping arrival
   * order, as a subscriber connection reading behind the commit replies would. @default none
   */
  delayMs?: () => number;
}

interface Held {
  readonly deliver: () => void;
  readonly due: number;
}

/**
 * One instance's view of a shared pub/sub (tests only): publishing goes straight to `inner`,
 * but the messages this view's subscribers receive can be held back ({@link hold}, then
 * {@link release} or {@link discardHeld}) or delayed, always in the order they arrived. It
 * stands for a Redis subscriber connection, whose messages arrive after the commit reply and
 * may be lost, so tests can make an instance's own commits beat their notices.
 *
 * Closing it stops its deliveries but leaves `inner` (shared with other instances) open.
 */
export class HeldPubSub implements PubSub {
  private readonly inner: PubSub;
  private readonly delayMs: (() => number) | undefined;
  /** `open -> holding -> open`: while holding, nothing is delivered. */
  private gate: "open" | "holding" = "open";
  private queue: Held[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Messages delivered to this view's subscribers so far. */
  delivered = 0;

  constructor(inner: PubSub, options: HeldPubSubOptions = {}) {
    this.inner = inner;
    this.delayMs = options.delayMs;
  }

  publish(channel: string, message: CommitNotice): Promise<void> {
    return this.inner.publish(channel, message);
  }

  subscribe(channel: string, onMessage: PubSubListener): Promise<() => Promise<void>> {
    return this.inner.subscribe(channel, (message) => this.arrive(() => onMessage(message)));
  }

  onResubscribe(listener: () => void): () => void {
    return this.inner.onResubscribe?.(listener) ?? (() => undefined);
  }

  /** Hold every message from now on until {@link release} or {@link discardHeld}. */
  hold(): void {
    this.gate = "holding";
  }

  /** Deliver what was held, in order, and deliver as configured from now on. */
  release(): void {
    this.gate = "open";
    this.pump();
  }

  /** Lose every held message (as Redis loses what is published while its subscriber is away). */
  discardHeld(): void {
    this.queue = [];
  }

  /** The number of messages waiting. */
  get heldCount(): number {
    return this.queue.length;
  }

  close(): Promise<void> {
    this.closed = true;
    this.queue = [];
    clearTimeout(this.timer);
    return Promise.resolve();
  }

  private arrive(deliver: () => void): void {
    if (this.closed) return;
    const delay = this.delayMs?.() ?? 0;
    this.queue.push({ deliver, due: performance.now() + delay });
    this.pump();
  }

  /** Deliver the messages that are due, oldest first; wake up again for the next one. */
  private pump(): void {
    if (this.timer !== undefined || this.gate === "holding") return;
    while (this.queue.length > 0 && !this.closed && this.gate === "open") {
      const head = this.queue[0] as Held;
      const wait = head.due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      this.delivered += 1;
      head.deliver();
    }
  }
}
