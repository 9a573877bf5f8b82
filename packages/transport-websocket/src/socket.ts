/**
 * The one socket shape {@link WebSocketTransport} drives, so that its lifecycle code is the
 * same whether a browser's `WebSocket` or Node's `ws` carries the frames.
 */

/** What a socket reports. `close` comes exactly once and last, also after a failed handshake. */
export interface SocketEvents {
  open(): void;
  /** One text frame (binary frames are decoded as UTF-8). */
  message(text: string): void;
  error(error: Error): void;
  close(code: number, reason: string): void;
}

/** An upgrade the server answered with an HTTP status instead of `101 Switching Protocols`. */
export interface HttpRefusal {
  readonly status: number;
  /** The start of the response body (at most 1 KiB), often the server's explanation. */
  readonly body: string;
}

/** A WebSocket connection in the making or open. */
export interface Socket {
  /** Hand one text frame to the connection; rejects if it is not open or the write failed. */
  send(text: string): Promise<void>;
  /** Start the closing handshake. */
  close(code: number, reason: string): void;
  /** Drop the connection without a handshake (or abort the opening handshake). */
  terminate(): void;
  /** Bytes queued but not yet sent. */
  readonly bufferedAmount: number;
  /** Set when the server refused the upgrade with an HTTP status (Node only: browsers hide it). */
  readonly refusal: HttpRefusal | undefined;
  /** Resolves once `close` has been reported. */
  readonly closed: Promise<void>;
}
