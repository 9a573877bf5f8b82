import { silentLogger, type Logger, type ServerMessage } from "@open-ot/core";
import type { HubConnection } from "./hub-types.js";

/**
 * What a connection is sent, in order. A connection that opted in to batching gets everything
 * due to it within one turn of the event loop as one array (a single message stays a single
 * object); others get one message per `send`. Batching, once on, stays on for the connection
 * (PROTOCOL.md, "Batching").
 */
export class Outbox {
  private readonly connection: HubConnection;
  private readonly logger: Logger;
  /** `single -> batching -> closed`, or `single -> closed`. */
  private mode: "single" | "batching" | "closed";
  private pending: ServerMessage[] = [];
  private flushScheduled: ReturnType<typeof setImmediate> | undefined;

  constructor(connection: HubConnection, batch: boolean, logger: Logger = silentLogger) {
    this.connection = connection;
    this.logger = logger;
    this.mode = batch ? "batching" : "single";
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
        // setImmediate runs after the current turn's I/O callbacks and microtasks, so
        // everything produced by one inbound frame or one pub/sub burst shares one frame.
        this.flushScheduled ??= setImmediate(() => this.flush());
    }
  }

  /** Send whatever is pending now. */
  flush(): void {
    if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    if (this.mode === "closed" || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.deliver(batch.length === 1 ? (batch[0] as ServerMessage) : batch);
  }

  /** Drop anything pending and send nothing more. */
  close(): void {
    this.mode = "closed";
    this.pending = [];
    if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
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
