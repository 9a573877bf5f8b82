import type { ServerResponse } from "node:http";
import { encodeMessage, type Logger, type ProtocolError, type ServerMessage } from "@open-ot/core";
import {
  exceedsBacklog,
  type ClientSubmit,
  type ConnectOptions,
  type GateRefusal,
  type GateVerdict,
  type HubConnection,
  type HubSession,
  type MessageGate,
  type ServerMetrics,
} from "@open-ot/server";
import { eventIdFor } from "./event-id.js";
import { formatSseComment, formatSseEvent } from "./sse-event.js";

/**
 * The part of the hub a binding uses: hand it a connection, get the session that feeds it.
 * With `submit` (as `Hub` has), an instance commits the ops POSTed for sessions of other
 * instances itself (see `sharedSessions`); without it, it hands them to the holding instance.
 */
export interface SseHub {
  connect(connection: HubConnection, options?: ConnectOptions): HubSession;
  submit?(request: ClientSubmit): Promise<ProtocolError | undefined>;
  /** Where the hub reports; the binding reports there too unless given its own `metrics`. */
  readonly metrics?: ServerMetrics | undefined;
}

/** Settings of one {@link SseSession}. */
export interface SseSessionOptions {
  readonly id: string;
  /** The token the stream was opened with, checked against every POST of the session. */
  readonly token: string | undefined;
  readonly streamDocId: string | undefined;
  readonly keepAliveInterval: number;
  readonly maxBufferedBytes: number;
  readonly maxQueuedPosts: number;
  /** The session's inbound rule (rate limit and batch cap), from the connection policy. */
  readonly gate: MessageGate;
  /** The client's address, for logs. */
  readonly remoteAddress: string;
  readonly logger: Logger | undefined;
  /** Called once when the session ends, whatever ended it. */
  readonly onEnd: (session: SseSession) => void;
}

/**
 * Session lifecycle:
 *
 *   open ──(close(code): close event written, stream ended)──────────────> closed
 *   open ──(drop(): client gone, slow reader, write failed; nothing written)──> closed
 *
 * In both cases the hub session is closed, the keep-alive timer cleared and `onEnd` called, so
 * the handler forgets the session id.
 */
export type SseSessionState = "open" | "closed";

/**
 * One event stream and the hub session behind it. Outbound messages become `data:` events;
 * POSTed messages are handed to the hub strictly in the order their requests arrived.
 */
export class SseSession {
  readonly id: string;
  readonly token: string | undefined;
  /** The principal the stream's token granted, if any. */
  readonly principal: string | undefined;
  private state: SseSessionState = "open";
  // Both are set once the session event is out; a stream cut off while writing that event
  // never gets a hub session or a timer.
  private hubSession: HubSession | undefined;
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    hub: SseHub,
    private readonly res: ServerResponse,
    connectOptions: ConnectOptions,
    private readonly options: SseSessionOptions,
  ) {
    this.id = options.id;
    this.token = options.token;
    this.principal = connectOptions.principal;
    res.on("close", () => this.drop("the client closed the event stream"));
    // The session event goes out before the hub can say anything, so it is always first.
    this.write(formatSseEvent({ event: "session", data: JSON.stringify({ sessionId: this.id }) }));
    if (this.state !== "open") return;
    const connection: HubConnection = {
      send: (message) => this.deliver(message),
      close: (code, reason) => this.close(code, reason),
    };
    this.hubSession = hub.connect(connection, connectOptions);
    this.keepAlive = setInterval(() => this.write(formatSseComment("keep-alive")), options.keepAliveInterval);
    // Only a timer; it must not keep a process alive that has nothing else to do.
    this.keepAlive.unref?.();
  }

  /** The current lifecycle state. */
  get status(): SseSessionState {
    return this.state;
  }

  /** The clientId the session speaks for, once an accepted join or op named one. */
  get boundClientId(): string | undefined {
    return this.hubSession?.boundClientId;
  }

  /** The documents the session has joined. */
  get documents(): readonly string[] {
    return this.hubSession?.documents ?? [];
  }

  /** The epoch a joined document was in when the session's join of it was answered. */
  epochOf(docId: string): string | undefined {
    return this.hubSession?.epochOf?.(docId);
  }

  /** Bytes written to the stream and not yet sent. */
  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  /** Write server messages on the stream that did not come from this session's hub session (refusals of ops another instance handled). */
  push(messages: readonly ServerMessage[]): void {
    for (const message of messages) this.deliver(message);
  }

  /** Resolves when the hub has handled every message handed to it so far. */
  async handled(): Promise<void> {
    await this.hubSession?.idle();
  }

  /** Hand an inbound message (or array of them) to the hub. */
  receive(value: object): void {
    if (this.state === "open") this.hubSession?.receive(value);
  }

  /** The close verdict of a POST body holding a batch above the cap, judged before it is parsed; else undefined. */
  judgeUnparsed(text: string): GateRefusal | undefined {
    return this.options.gate.judgeUnparsed(text);
  }

  /** Judge a POST of `count` messages against the session's rate limit and batch cap, before any of it is handled. */
  judge(count: number): GateVerdict {
    return this.options.gate.judge(count);
  }

  /**
   * Run `task` after every task enqueued before it has finished, so that POSTs reach the hub in
   * the order they arrived even though reading bodies and checking tokens is asynchronous.
   * Returns false (and runs nothing) when `maxQueuedPosts` are already waiting.
   */
  enqueue(task: () => Promise<void>): boolean {
    if (this.queued >= this.options.maxQueuedPosts) return false;
    this.queued++;
    const run = async (): Promise<void> => {
      try {
        await task();
      } catch (error) {
        this.options.logger?.error?.("SSE POST handling failed", { sessionId: this.id, error });
      } finally {
        this.queued--;
      }
    };
    this.queue = this.queue.then(run);
    return true;
  }

  /** Resolves when every POST taken so far has been handed over and the hub has handled it. */
  async idle(): Promise<void> {
    await this.queue;
    await this.hubSession?.idle();
  }

  /** End the stream with a close event carrying `code` and `reason`, which the client reports through `onClose`. */
  close(code: number, reason: string): void {
    if (this.state !== "open") return;
    this.write(formatSseEvent({ event: "close", data: JSON.stringify({ code, reason }) }));
    this.res.end();
    this.finish();
  }

  /** End the session without writing anything more (the client is gone or cannot keep up). */
  drop(why: string): void {
    if (this.state !== "open") return;
    this.options.logger?.debug?.("SSE session dropped", { sessionId: this.id, remoteAddress: this.options.remoteAddress, why });
    if (!this.res.destroyed) this.res.destroy();
    this.finish();
  }

  private deliver(message: ServerMessage | readonly ServerMessage[]): void {
    if (this.state !== "open") return;
    let data: string;
    try {
      data = encodeMessage(message);
    } catch (error) {
      // A message that cannot be encoded would leave a hole in the client's revision sequence;
      // ending the stream with 1011 makes it rejoin instead of silently missing an op.
      this.options.logger?.error?.("SSE session could not encode an outbound message", { sessionId: this.id, error });
      this.close(1011, "internal error: an outbound message could not be encoded");
      return;
    }
    const id = eventIdFor(message, this.options.streamDocId);
    this.write(formatSseEvent(id === undefined ? { data } : { id, data }));
  }

  private write(chunk: string): void {
    if (this.state !== "open") return;
    // A reader that does not keep up makes the response buffer grow without bound: a chunk that
    // would take it past the bound is not written, and the stream is cut off instead (the
    // client sees a drop, reconnects and resumes from its revision).
    const buffered = this.res.writableLength;
    if (exceedsBacklog(buffered, Buffer.byteLength(chunk), this.options.maxBufferedBytes)) {
      this.options.logger?.warn?.("SSE session dropped: slow reader", {
        sessionId: this.id,
        remoteAddress: this.options.remoteAddress,
        buffered,
        maxBufferedBytes: this.options.maxBufferedBytes,
      });
      this.drop("slow reader");
      return;
    }
    this.res.write(chunk);
  }

  private finish(): void {
    this.state = "closed";
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.hubSession?.close();
    this.options.onEnd(this);
  }
}
