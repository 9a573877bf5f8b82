import type { ServerMessage } from "@open-ot/core";

/**
 * One client connection as a transport binding sees it. The hub calls `send` for every outbound
 * message (an array only when the connection opted in to batching) and `close` to end it.
 */
export interface HubConnection {
  /** Hand one message (or, for batching connections, an array of messages) to the wire. */
  send(message: ServerMessage | readonly ServerMessage[]): void;
  /** Close the connection with a protocol close code (see `CloseCode` in @open-ot/core). */
  close(code: number, reason: string): void;
}

/** Options for {@link Hub.connect}. */
export interface ConnectOptions {
  /** The connection opted in to batched frames (for example `batch=1` in its URL). @default false */
  batch?: boolean;
  /**
   * Root-path (legacy OpenOT) connections: join this document at its current revision straight
   * away, sending nothing until ops arrive. The document is created if the hub creates on demand.
   */
  autoJoin?: string;
  /**
   * The authenticated principal of the connection (a user id, as the binding's token
   * verification yields it); undefined without authentication. A `clientId` is bound to the
   * principal that first commits under it in a document; a `join` or `op` naming it from another
   * principal is then refused with `forbidden`. @default undefined
   */
  principal?: string;
  /** The client's network address, as the binding determined it (for logs and per-address limits). @default undefined */
  remoteAddress?: string;
  /** The binding's name for its transport ("websocket", "sse"), for connection counts in metrics. @default "unknown" */
  transport?: string;
}

/** The hub's handle on one connection; the binding feeds it what arrives and tells it when the connection ends. */
export interface HubSession {
  /** A stable id for logs and for SSE session lookup. */
  readonly id: string;
  /**
   * One inbound frame: JSON text, or an already-parsed value (for example a POST body). Arrays
   * are handled element by element, in order. Never throws: bad input is answered with `error`.
   */
  receive(frame: unknown): void;
  /** The connection is gone: stop delivering, leave every document. Safe to call twice. */
  close(): void;
  /** Resolves when everything received so far has been handled (for tests and graceful shutdown). */
  idle(): Promise<void>;
  /** The clientId the connection speaks for, once an accepted `join` or `op` named one. */
  readonly boundClientId?: string | undefined;
  /** The documents the connection receives (its accepted joins). */
  readonly documents?: readonly string[];
  /**
   * The epoch a joined document was in when the join was answered (backends with epochs), for
   * an op committed for this connection elsewhere (`Hub.submit`).
   */
  epochOf?(docId: string): string | undefined;
}
