/** Why a transport's connection ended. */
export interface TransportCloseEvent {
  /**
   * The WebSocket-style close code: the server's close frame where there was one (see
   * {@link CloseCode}), 1006 for a drop with no close frame, 1000 after a local `disconnect()`.
   */
  readonly code: number;
  /** The reason the peer gave, or a description of the failure; may be empty. */
  readonly reason: string;
  /** True when the connection was closed by `disconnect()` on this side. */
  readonly local: boolean;
  /** The underlying error, when the connection ended because of one. */
  readonly error?: Error;
}

/**
 * A bidirectional message channel to an OpenOT server.
 *
 * The three methods are exactly those published OpenOT code uses. A transport delivers each
 * inbound message to `onReceive` separately: when the server sends a batch (a JSON array, see
 * the protocol's batching note), the transport unwraps it and calls `onReceive` once per
 * element, in order.
 */
export interface TransportAdapter<M = unknown> {
  /**
   * Open the connection. Resolves once messages can be sent; rejects with an error that says
   * why it could not connect.
   */
  connect(onReceive: (message: M) => void): Promise<void>;
  /** Send one message. Rejects if the transport is not open or the message could not be handed over. */
  send(message: M): Promise<void>;
  /** Close the connection. Safe to call more than once; nothing reaches `onReceive` afterwards. */
  disconnect(): Promise<void>;
  /**
   * Optional: be told when an established connection ends, with the close code and reason.
   * Called once per connection, including after a local `disconnect()` (with `local: true`).
   * Returns a function that removes the listener. Transports without it are still valid
   * `TransportAdapter`s; the reconnecting wrapper then relies on errors and heartbeats.
   */
  onClose?(listener: (event: TransportCloseEvent) => void): () => void;
}

/**
 * Optional capability of transports that reconnect by themselves (the reconnecting wrapper):
 * the handshake runs after every (re)connection, before anything queued is sent. It gets a
 * `send` that goes straight to the fresh connection. The OT client uses it to send `join` with
 * its revision and then resend its pending op.
 */
export interface HandshakeCapable<M = unknown> {
  setHandshake(handshake: ((send: (message: M) => Promise<void>) => Promise<void> | void) | undefined): void;
}

/** True when `transport` offers {@link HandshakeCapable.setHandshake}. */
export function isHandshakeCapable<M>(transport: TransportAdapter<M>): transport is TransportAdapter<M> & HandshakeCapable<M> {
  return typeof (transport as Partial<HandshakeCapable<M>>).setHandshake === "function";
}

/**
 * The credentials option of the client transports: a token, or a function that the transport
 * asks on every connection attempt (so a reconnect after the token expired gets a fresh one).
 * The function may be async; returning `undefined` connects without a token.
 */
export type TokenSource = string | (() => string | undefined | PromiseLike<string | undefined>);

/** Thrown by {@link resolveToken} for a token source that is not usable. */
export class TokenSourceError extends Error {
  override readonly name = "TokenSourceError";
}

/**
 * Check a {@link TokenSource} given to a transport's constructor: a non-empty string or a
 * function. Throws a TypeError naming `owner` otherwise.
 */
export function checkTokenSource(token: unknown, owner: string): TokenSource | undefined {
  if (token === undefined) return undefined;
  if (typeof token === "function") return token as TokenSource;
  if (typeof token === "string" && token !== "") return token;
  throw new TypeError(`${owner}: token must be a non-empty string or a function that returns one (leave it out for no token).`);
}

/**
 * The token for one connection attempt: the string itself, or what the function returns now.
 * Rejects with a {@link TokenSourceError} (the function's failure as `cause`) when the function
 * throws, rejects, or returns something other than a non-empty string or `undefined`.
 */
export async function resolveToken(token: TokenSource | undefined): Promise<string | undefined> {
  if (typeof token !== "function") return token;
  let value: unknown;
  try {
    value = await token();
  } catch (cause) {
    throw new TokenSourceError(`the token function failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (value === undefined || (typeof value === "string" && value !== "")) return value;
  throw new TokenSourceError(
    `the token function returned ${value === "" ? "an empty string" : typeof value}; return a non-empty string, or undefined for no token`,
  );
}
