import {
  CloseCode,
  decodeFrame,
  encodeMessage,
  errorMessage,
  isValidDocId,
  isValidSeq,
  type ErrorMessage,
  type Logger,
  type ServerMessage,
} from "@open-ot/core";
import {
  exceedsBacklog,
  type ConnectOptions,
  type GateRefusal,
  type HubConnection,
  type HubSession,
  type MessageGate,
} from "@open-ot/server";
import type { HubLike } from "./hub-like.js";
import type { RawData, WebSocket } from "ws";
import { truncateCloseReason } from "./close-reason.js";

/** Per-connection settings, resolved by the binding. */
export interface WebSocketConnectionSettings {
  readonly maxBufferedBytes: number;
  readonly closeTimeoutMs: number;
  readonly logger: Logger | undefined;
}

/**
 * Lifecycle of one connection (one state variable, changed only in `setState`):
 *
 * ```
 * open -> closing -> closed
 *   \________________^        (the peer closed, or the socket dropped)
 * ```
 *
 * `closing`: this side started the close (hub, shutdown, policy, rate limit, slow consumer); input is
 * ignored and output dropped until the socket is gone.
 */
type ConnectionState = "open" | "closing" | "closed";

/**
 * One accepted WebSocket, plugged into the hub: decodes and rate-limits inbound frames, sends
 * the hub's messages, answers for liveness, and drops itself when it cannot keep up.
 */
export class WebSocketConnection implements HubConnection {
  private state: ConnectionState = "open";
  private session: HubSession | undefined;
  /** A ping frame went out and its pong has not come back yet. */
  private awaitingPong = false;
  private terminateTimer: ReturnType<typeof setTimeout> | undefined;
  private reportClosed!: () => void;
  /** Resolves once the socket has closed and the hub session has been told. */
  readonly closed = new Promise<void>((resolve) => (this.reportClosed = resolve));

  /**
   * @param gate - The connection's inbound rule (rate limit and batch cap), from the policy.
   * @param remoteAddress - The client's address, for logs.
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly settings: WebSocketConnectionSettings,
    private readonly gate: MessageGate,
    readonly remoteAddress: string,
  ) {
    ws.on("message", (data: RawData) => this.receive(data));
    ws.on("pong", () => {
      this.awaitingPong = false;
    });
    // ws reports protocol violations (too big: 1009, bad opcode: 1002) as an error and then
    // closes the connection itself; without a listener the error would crash the process.
    ws.on("error", (error: Error) => {
      this.settings.logger?.debug?.("WebSocket connection error", { session: this.session?.id, remoteAddress, error: error.message });
    });
    ws.on("close", () => this.handleClose());
  }

  /** Register with the hub. A hub that throws gets the connection closed with 1011. */
  start(hub: HubLike, options: ConnectOptions): void {
    try {
      this.session = hub.connect(this, options);
    } catch (error) {
      this.settings.logger?.error?.("Hub refused a WebSocket connection", { remoteAddress: this.remoteAddress, error });
      this.close(CloseCode.INTERNAL_ERROR, "internal error: the server could not open a session");
    }
  }

  /** Bytes written to the socket and not yet sent. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** The hub session's id, for logs. */
  get id(): string | undefined {
    return this.session?.id;
  }

  /**
   * Send one message (or a batch) to the client, unless this connection is closing. A message
   * that would take the backlog past `maxBufferedBytes` is not queued: the client is not
   * reading fast enough, and the connection is closed with 1011 (it comes back with backoff
   * and resumes from its revision) rather than held in server memory.
   */
  send(message: ServerMessage | readonly ServerMessage[]): void {
    if (this.state !== "open") return;
    let text: string;
    try {
      text = encodeMessage(message);
    } catch (error) {
      this.settings.logger?.error?.("Could not encode an outbound message", { session: this.session?.id, error });
      this.close(CloseCode.INTERNAL_ERROR, "internal error: could not encode a message");
      return;
    }
    const buffered = this.ws.bufferedAmount;
    if (exceedsBacklog(buffered, Buffer.byteLength(text), this.settings.maxBufferedBytes)) {
      this.settings.logger?.warn?.("Closing a WebSocket connection that does not keep up", {
        session: this.session?.id,
        remoteAddress: this.remoteAddress,
        bufferedAmount: buffered,
      });
      this.close(CloseCode.INTERNAL_ERROR, "slow consumer: too much data waiting to be sent");
      return;
    }
    this.ws.send(text);
  }

  /**
   * Close with `code` and `reason` (cut to fit a close frame); if the client has not finished
   * the closing handshake within `closeTimeoutMs`, drop it.
   */
  close(code: number, reason: string): void {
    if (this.state !== "open") return;
    this.setState("closing");
    try {
      this.ws.close(code, truncateCloseReason(reason));
    } catch (error) {
      // ws throws for codes a server may not send (1005, 1006...): drop the connection instead.
      this.settings.logger?.error?.("Invalid close code; terminating the connection", { code, error });
      this.ws.terminate();
      return;
    }
    this.terminateTimer = setTimeout(() => this.ws.terminate(), this.settings.closeTimeoutMs);
    this.terminateTimer.unref?.();
  }

  /** Drop the connection without a closing handshake. */
  terminate(): void {
    if (this.state === "open") this.setState("closing");
    this.ws.terminate();
  }

  /**
   * One heartbeat tick: a connection that did not answer the previous ping frame is dropped,
   * the others get a new ping frame.
   */
  heartbeat(): void {
    if (this.state !== "open") return;
    if (this.awaitingPong) {
      this.settings.logger?.debug?.("Dropping a WebSocket connection that missed a pong", { session: this.session?.id });
      this.terminate();
      return;
    }
    this.awaitingPong = true;
    this.ws.ping();
  }

  /** Resolves when the hub has handled everything this connection delivered. */
  idle(): Promise<void> {
    return this.session?.idle() ?? Promise.resolve();
  }

  private setState(next: ConnectionState): void {
    this.settings.logger?.debug?.(`WebSocket connection ${this.state} -> ${next}`, { session: this.session?.id });
    this.state = next;
  }

  private receive(data: RawData): void {
    if (this.state !== "open") return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    // A batch over the cap is refused before it is parsed: parsing it would cost more than the frame.
    const oversized = this.gate.judgeUnparsed(bytes);
    if (oversized !== undefined) {
      this.refuse(oversized, undefined);
      return;
    }
    // The server runs ws with skipUTF8Validation, so invalid UTF-8 arrives here and is answered
    // with bad_message instead of closing the connection with 1007.
    const decoded = decodeFrame(bytes);
    // The whole frame is charged before any of it is handled, and answered at most once.
    const verdict = this.gate.judge(decoded.ok && Array.isArray(decoded.value) ? decoded.value.length : 1);
    if (verdict.kind !== "pass") {
      this.refuse(verdict, decoded.ok ? decoded.value : undefined);
      return;
    }
    if (!decoded.ok) {
      this.send(errorMessage(decoded.error));
      return;
    }
    // The hub reads a string as JSON text: hand it the string as JSON text again, so that a
    // frame holding a JSON string is refused as "not an object" rather than parsed a second time.
    const frame = typeof decoded.value === "string" ? JSON.stringify(decoded.value) : decoded.value;
    try {
      this.session?.receive(frame);
    } catch (error) {
      this.settings.logger?.error?.("Hub session threw on an inbound frame", { session: this.session?.id, error });
      this.send({ type: "error", code: "internal", message: "The server failed to handle the message; it was not applied." });
    }
  }

  /** One `error` for the whole frame, then the close the verdict names, if any. */
  private refuse(verdict: GateRefusal, value: unknown): void {
    const error: ErrorMessage = { type: "error", code: verdict.code, message: verdict.message };
    // Name the op that was dropped, so that its sender knows which one to resend.
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const fields = value as Record<string, unknown>;
      if (isValidDocId(fields["docId"])) error.docId = fields["docId"];
      if (fields["type"] === "op" && isValidSeq(fields["seq"])) error.seq = fields["seq"];
    }
    this.send(error);
    if (verdict.kind === "close") {
      this.settings.logger?.warn?.("Closing a WebSocket connection over its inbound limits", {
        session: this.session?.id,
        remoteAddress: this.remoteAddress,
        code: verdict.closeCode,
      });
      this.close(
        verdict.closeCode,
        verdict.code === "too_large" ? "message too big: too many messages in one batch" : "rate limited: too many messages",
      );
    }
  }

  private handleClose(): void {
    if (this.state === "closed") return;
    this.setState("closed");
    clearTimeout(this.terminateTimer);
    this.session?.close();
    this.reportClosed();
  }
}
