import { checkNumberOption, silentLogger, type Logger, type ServerMessage } from "@open-ot/core";
import type { HubConnection } from "./hub-types.js";

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  /** The connection opted in to batching from the start. @default false */
  batch?: boolean;
  /**
   * Frame pacing of a batching connection, in milliseconds: other clients' ops (`op`
   * broadcasts) due to it within this long of its previous frame wait for the next frame
   * instead of getting one each. Replies to the connection itself (`ack`, `error`, `snapshot`,
   * `joined`, `pong`) never wait. 0 turns pacing off (one frame per event-loop turn).
   * @default 0
   */
  holdMs?: number;
  /** @default silent */
  logger?: Logger;
}

/**
 * What a connection is sent, in order. A connection that opted in to batching gets everything
 * due to it within one turn of the event loop as one array (a single message stays a single
 * object); others get one message per `send`. Batching, once on, stays on for the connection
 * (docs/protocol.md, "Framing and batching").
 *
 * Pacing (batching connections, `holdMs > 0`): a frame that holds only other clients' ops is
 * sent at once when the connection's previous frame is at least `holdMs` old, else when it
 * becomes that old, so a busy document costs each connection at most one such frame per
 * `holdMs` however many ops are committed, while a quiet one delivers at once. A reply to the
 * connection's own request (its `ack` first of all) goes out in the current turn and takes
 * everything held before it along, in order. Nothing is ever reordered or merged: the frame is
 * the same messages, in the same order, in fewer writes.
 */
export class Outbox {
  private readonly connection: HubConnection;
  private readonly logger: Logger;
  private readonly holdMs: number;
  /** `single -> batching -> closed`, or `single -> closed`. */
  private mode: "single" | "batching" | "closed";
  private pending: ServerMessage[] = [];
  /** A flush at the end of this turn. */
  private immediate: ReturnType<typeof setImmediate> | undefined;
  /** A paced flush, when the previous frame is `holdMs` old. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the previous frame went out (`performance.now()`), or -Infinity. */
  private lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(connection: HubConnection, options: OutboxOptions = {}) {
    this.connection = connection;
    this.logger = options.logger ?? silentLogger;
    this.holdMs = checkNumberOption("Outbox", "holdMs", options.holdMs ?? 0, { min: 0 });
    this.mode = options.batch === true ? "batching" : "single";
  }

  /** True once the connection opted in to batching. */
  get batching(): boolean {
    return this.mode === "batching";
  }

  /** Opt the connection in to batched frames from now on. */
  enableBatching(): void {
    if (this.mode === "single") this.mode = "batching";
  }

  /** Send `message` now (single mode) or with the rest of this turn's messages (batching). */
  push(message: ServerMessage): void {
    switch (this.mode) {
      case "closed":
        return;
      case "single":
        this.deliver(message);
        return;
      case "batching":
        this.pending.push(message);
        this.schedule(message);
    }
  }

  /** Send whatever is pending now. */
  flush(): void {
    this.cancelScheduled();
    if (this.mode === "closed" || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.lastSentAt = performance.now();
    this.deliver(batch.length === 1 ? (batch[0] as ServerMessage) : batch);
  }

  /** Drop anything pending and send nothing more. */
  close(): void {
    this.mode = "closed";
    this.pending = [];
    this.cancelScheduled();
  }

  /**
   * When the frame holding `message` goes out: this turn for a reply or without pacing, else
   * when the previous frame is `holdMs` old. A flush already due this turn covers it.
   */
  private schedule(message: ServerMessage): void {
    if (this.immediate !== undefined) return;
    if (message.type !== "op" || this.holdMs === 0) {
      this.flushThisTurn();
      return;
    }
    if (this.timer !== undefined) return;
    const wait = this.lastSentAt + this.holdMs - performance.now();
    if (wait <= 0) this.flushThisTurn();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /**
   * Flush after this turn's I/O callbacks and microtasks (setImmediate), so everything produced
   * by one inbound frame or one pub/sub burst shares one frame.
   */
  private flushThisTurn(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.immediate = setImmediate(() => this.flush());
  }

  private cancelScheduled(): void {
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private deliver(message: ServerMessage | readonly ServerMessage[]): void {
    try {
      this.connection.send(message);
    } catch (error) {
      // The binding's socket is going away; it tells the hub through session.close().
      this.logger.warn?.("connection.send threw; dropping the message", { error });
    }
  }
}
