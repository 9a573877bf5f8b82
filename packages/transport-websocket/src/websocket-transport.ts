import {
  checkNumberOption,
  checkTokenSource,
  resolveToken,
  type Logger,
  type TokenSource,
  type TransportAdapter,
  type TransportCloseEvent,
} from "@open-ot/core";
import type { WebSocketConstructor } from "./native-socket.js";
import type { HttpRefusal, Socket, SocketEvents } from "./socket.js";
import { resolveSocketFactory } from "./socket-factory.js";
import { WebSocketTransportError } from "./transport-error.js";

/** Options of {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** WebSocket subprotocols to offer. @default undefined (none) */
  protocols?: string | string[];
  /**
   * HTTP headers for the upgrade request. Node only: giving any makes the transport use `ws`
   * even where a global `WebSocket` exists; in a browser `connect()` then rejects with kind
   * `unsupported`. @default undefined
   */
  headers?: Record<string, string>;
  /**
   * An access token for the server (see `tokenPlacement`): a string, or a function (sync or
   * async) that is asked on every `connect()`, so that each new connection, a reconnect after
   * the token expired included, carries a fresh token. A function that throws or rejects fails
   * the attempt with kind `token`; one that returns `undefined` connects without a token.
   * @default undefined
   */
  token?: TokenSource;
  /**
   * Where the token goes: `"query"` appends `?token=...` to the URL (works everywhere);
   * `"header"` sends `Authorization: Bearer ...` (Node only, like `headers`). @default "query"
   */
  tokenPlacement?: "query" | "header";
  /** How long `connect()` waits for the connection to open before rejecting with kind `timeout`. @default 10000 */
  connectTimeoutMs?: number;
  /** How long `disconnect()` waits for the closing handshake before dropping the connection. @default 2000 */
  closeTimeoutMs?: number;
  /**
   * The WHATWG `WebSocket` class to use (for example a polyfill, or `ws`'s class in tests).
   * @default globalThis.WebSocket, or `ws` (imported on demand) where there is none
   */
  WebSocket?: WebSocketConstructor;
  /** Receives listener errors and lifecycle details. @default undefined (silent) */
  logger?: Logger;
}

/**
 * Lifecycle (one state variable, changed only in `setState`):
 *
 * ```
 * idle -> connecting -> open -> closed
 *             |                   ^ |
 *             +-------------------+ +-> connecting   (connect() again)
 * ```
 *
 * `connecting` holds the one attempt every concurrent `connect()` shares; `closed` holds a
 * promise that resolves once the last socket has finished closing.
 */
type State =
  | { readonly name: "idle" }
  | { readonly name: "connecting"; readonly attempt: Promise<void>; readonly abort: (error: WebSocketTransportError) => void }
  | { readonly name: "open"; readonly socket: Socket }
  | { readonly name: "closed"; readonly drained: Promise<void> };

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 2_000;
const NORMAL_CLOSURE = 1000;
/** Reported (never sent) when the server sends a frame that is not JSON. */
const PROTOCOL_ERROR = 1002;

/**
 * A {@link TransportAdapter} over one WebSocket, with JSON encoding.
 *
 * Uses the browser's `WebSocket` where there is one and `ws` in Node. Inbound arrays (the
 * protocol's batches) are unwrapped: `onReceive` is called once per element, in order.
 *
 * ```ts
 * const transport = new WebSocketTransport("ws://localhost:3000/ws", { token });
 * await transport.connect((message) => console.log(message));
 * await transport.send({ type: "ping", t: 1 });
 * ```
 */
export class WebSocketTransport<M = unknown> implements TransportAdapter<M> {
  private state: State = { name: "idle" };
  private onReceive: ((message: M) => void) | undefined;
  private readonly closeListeners = new Set<(event: TransportCloseEvent) => void>();
  /** The URL without the token: the endpoint, and what messages and logs show. */
  private readonly displayUrl: string;
  private readonly headers: Record<string, string> | undefined;
  private readonly token: TokenSource | undefined;
  private readonly tokenPlacement: "query" | "header";
  private readonly connectTimeoutMs: number;
  private readonly closeTimeoutMs: number;

  /**
   * @param url - The server's WebSocket endpoint, such as `ws://localhost:3000/ws`
   *   (`http(s)://` is accepted and mapped to `ws(s)://`).
   * @throws TypeError for a URL that is not absolute ws/wss/http/https, or a bad option.
   */
  constructor(
    url: string | URL,
    private readonly options: WebSocketTransportOptions = {},
  ) {
    const parsed = parseEndpoint(url);
    this.displayUrl = parsed.toString();
    const placement = options.tokenPlacement ?? "query";
    if (placement !== "query" && placement !== "header") {
      throw new TypeError(`WebSocketTransport: tokenPlacement must be "query" or "header", got ${String(placement)}.`);
    }
    this.tokenPlacement = placement;
    this.token = checkTokenSource(options.token, "WebSocketTransport");
    this.headers = options.headers === undefined ? undefined : { ...options.headers };
    this.connectTimeoutMs = checkNumberOption(
      "WebSocketTransport",
      "connectTimeoutMs",
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      POSITIVE,
    );
    this.closeTimeoutMs = checkNumberOption(
      "WebSocketTransport",
      "closeTimeoutMs",
      options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
      POSITIVE,
    );
  }

  /** Where the transport is in its lifecycle (for logs and tests). */
  get status(): "idle" | "connecting" | "open" | "closed" {
    return this.state.name;
  }

  /**
   * Open the connection; resolves once it is open. While an attempt is running, further calls
   * return the same promise; once open, they resolve at once. Messages go to the `onReceive`
   * of the latest call. Rejects with a {@link WebSocketTransportError} of kind `unreachable`,
   * `refused` (with `status`), `timeout`, `closed` (disconnect() during the attempt) or
   * `unsupported`. After a close, calling it again opens a new connection.
   */
  connect(onReceive: (message: M) => void): Promise<void> {
    if (typeof onReceive !== "function") {
      return Promise.reject(new TypeError("WebSocketTransport.connect(onReceive): onReceive must be a function."));
    }
    this.onReceive = onReceive;
    const state = this.state;
    if (state.name === "open") return Promise.resolve();
    if (state.name === "connecting") return state.attempt;
    return this.startAttempt();
  }

  /**
   * Send one message as a JSON text frame. Resolves once it is handed to the connection
   * (written to the socket in Node). Rejects with kind `not_open` before `connect()` resolved,
   * `closed` after the connection closed, `encode` if the message is not JSON-serialisable.
   */
  send(message: M): Promise<void> {
    const state = this.state;
    if (state.name !== "open") {
      return Promise.reject(
        state.name === "closed"
          ? new WebSocketTransportError("closed", `send() after the connection to ${this.displayUrl} closed: call connect() again first.`)
          : new WebSocketTransportError("not_open", `send() before connect() resolved: await transport.connect(...) first.`),
      );
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(message);
    } catch (cause) {
      return Promise.reject(
        new WebSocketTransportError("encode", "send(): the message cannot be encoded as JSON (a cycle or a BigInt?).", { cause }),
      );
    }
    if (text === undefined) {
      return Promise.reject(new WebSocketTransportError("encode", "send(): the message has no JSON form (undefined or a function)."));
    }
    return state.socket.send(text);
  }

  /**
   * Close the connection (code 1000). Resolves once the socket has closed, or after
   * `closeTimeoutMs` when the server does not finish the handshake. Nothing reaches
   * `onReceive` once it has been called; an attempt in progress is aborted (its `connect()`
   * rejects with kind `closed`). Safe to call any number of times.
   */
  disconnect(): Promise<void> {
    const state = this.state;
    switch (state.name) {
      case "idle":
        return Promise.resolve();
      case "closed":
        return state.drained;
      case "connecting":
        state.abort(new WebSocketTransportError("closed", "disconnect() was called before the connection opened."));
        return this.state.name === "closed" ? this.state.drained : Promise.resolve();
      case "open": {
        const drained = this.closeSocket(state.socket, NORMAL_CLOSURE, "");
        this.setState({ name: "closed", drained });
        this.emitClose({ code: NORMAL_CLOSURE, reason: "", local: true });
        return drained;
      }
    }
  }

  /**
   * Be told when an open connection ends: the server's close code and reason, 1006 for a drop,
   * 1000 with `local: true` after `disconnect()`, 1002 when the server sent a frame that is not
   * JSON. Called once per connection; a failed `connect()` reports through its rejection
   * instead. Returns a function that removes the listener.
   */
  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    this.closeListeners.add(listener);
    return () => {
      this.closeListeners.delete(listener);
    };
  }

  private setState(next: State): void {
    this.options.logger?.debug?.(`WebSocketTransport ${this.state.name} -> ${next.name}`, { url: this.displayUrl });
    this.state = next;
  }

  private startAttempt(): Promise<void> {
    let socket: Socket | undefined;
    let lastError: Error | undefined;
    let settled = false;
    let settle!: { resolve: () => void; reject: (error: WebSocketTransportError) => void };
    const attempt = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

    const fail = (error: WebSocketTransportError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.terminate();
      if (this.state === connecting) {
        this.setState({ name: "closed", drained: socket === undefined ? Promise.resolve() : this.whenClosed(socket) });
      }
      settle.reject(error);
    };
    const connecting: State = { name: "connecting", attempt, abort: fail };
    const timer = setTimeout(
      () =>
        fail(
          new WebSocketTransportError(
            "timeout",
            `No connection to ${this.displayUrl} within ${this.connectTimeoutMs} ms: check that the server is up, or raise connectTimeoutMs.`,
          ),
        ),
      this.connectTimeoutMs,
    );

    const events: SocketEvents = {
      open: () => {
        // A socket that opens after a timeout or disconnect() was already terminated.
        if (settled || socket === undefined) return;
        settled = true;
        clearTimeout(timer);
        this.setState({ name: "open", socket });
        settle.resolve();
      },
      message: (text) => {
        if (socket !== undefined) this.handleFrame(socket, text);
      },
      error: (error) => {
        lastError = error;
        this.options.logger?.debug?.("WebSocketTransport socket error", { url: this.displayUrl, error: error.message });
      },
      close: (code, reason) => {
        if (!settled) fail(this.connectFailure(code, lastError, socket?.refusal));
        else if (socket !== undefined) this.handleRemoteClose(socket, code, reason, lastError);
      },
    };

    this.setState(connecting);
    this.endpoint()
      .then(({ url, headers }) => {
        if (settled) return undefined;
        return resolveSocketFactory({ url, protocols: this.options.protocols, headers, WebSocket: this.options.WebSocket });
      })
      .then((createSocket) => {
        if (settled || createSocket === undefined) return;
        socket = createSocket(events);
      })
      .catch((error: unknown) => {
        fail(
          error instanceof WebSocketTransportError
            ? error
            : new WebSocketTransportError("unreachable", `Could not open a WebSocket to ${this.displayUrl}: ${describe(error)}.`, {
                cause: error,
              }),
        );
      });
    return attempt;
  }

  /** The URL and headers of one attempt, with the token asked for now. */
  private async endpoint(): Promise<{ url: string; headers: Record<string, string> | undefined }> {
    let token: string | undefined;
    try {
      token = await resolveToken(this.token);
    } catch (cause) {
      throw new WebSocketTransportError("token", `No connection to ${this.displayUrl}: ${describe(cause)}.`, { cause });
    }
    if (token === undefined) return { url: this.displayUrl, headers: this.headers };
    if (this.tokenPlacement === "header") return { url: this.displayUrl, headers: { ...this.headers, Authorization: `Bearer ${token}` } };
    const url = new URL(this.displayUrl);
    url.searchParams.set("token", token);
    return { url: url.toString(), headers: this.headers };
  }

  private connectFailure(code: number, error: Error | undefined, refusal: HttpRefusal | undefined): WebSocketTransportError {
    if (refusal !== undefined) {
      const body = refusal.body.trim();
      return new WebSocketTransportError(
        "refused",
        `The server refused the WebSocket upgrade to ${this.displayUrl} with HTTP ${refusal.status}${body ? ` (${body})` : ""}. ${refusalHint(refusal.status)}`,
        { status: refusal.status, cause: error },
      );
    }
    const why = error?.message ? error.message : `the connection closed with code ${code} before it opened`;
    return new WebSocketTransportError(
      "unreachable",
      `Could not connect to ${this.displayUrl}: ${why}. Check that the server is running and the URL is right.`,
      { cause: error },
    );
  }

  private isOpenOn(socket: Socket): boolean {
    return this.state.name === "open" && this.state.socket === socket;
  }

  private handleFrame(socket: Socket, text: string): void {
    if (!this.isOpenOn(socket)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      // A frame we cannot read may have been an op: carrying on would leave a gap in the
      // document's revisions, so close and let the client rejoin.
      const error = new WebSocketTransportError(
        "decode",
        `The server at ${this.displayUrl} sent a frame that is not JSON; the connection was closed. Check that the URL is an OpenOT WebSocket endpoint.`,
        { cause },
      );
      const drained = this.closeSocket(socket, NORMAL_CLOSURE, "client could not decode a frame");
      this.setState({ name: "closed", drained });
      this.emitClose({ code: PROTOCOL_ERROR, reason: "the server sent a frame that is not JSON", local: false, error });
      return;
    }
    const messages: unknown[] = Array.isArray(value) ? value : [value];
    for (const message of messages) {
      // onReceive may call disconnect(): the rest of the batch must not be delivered then.
      if (!this.isOpenOn(socket)) return;
      const onReceive = this.onReceive;
      if (onReceive === undefined) return;
      try {
        onReceive(message as M);
      } catch (error) {
        this.reportListenerError("onReceive", error);
      }
    }
  }

  private handleRemoteClose(socket: Socket, code: number, reason: string, error: Error | undefined): void {
    // After disconnect() or a decode failure the close was already reported.
    if (!this.isOpenOn(socket)) return;
    this.setState({ name: "closed", drained: Promise.resolve() });
    this.emitClose(error === undefined ? { code, reason, local: false } : { code, reason, local: false, error });
  }

  /** Start the closing handshake; resolves when the socket closed or `closeTimeoutMs` passed. */
  private closeSocket(socket: Socket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code, reason);
    } catch {
      socket.terminate();
    }
    return this.whenClosed(socket);
  }

  /** Resolves when `socket` reported its close, or after `closeTimeoutMs` (then it is terminated). */
  private whenClosed(socket: Socket): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, this.closeTimeoutMs);
    });
    return Promise.race([socket.closed, timedOut]).finally(() => clearTimeout(timer));
  }

  private emitClose(event: TransportCloseEvent): void {
    for (const listener of [...this.closeListeners]) {
      try {
        listener(event);
      } catch (error) {
        this.reportListenerError("onClose listener", error);
      }
    }
  }

  /**
   * A throwing callback is the application's bug: give it to the logger, or else rethrow it
   * outside our call stack (as an EventTarget would), so that it is never swallowed and never
   * breaks the transport's own bookkeeping.
   */
  private reportListenerError(where: string, error: unknown): void {
    const logger = this.options.logger;
    if (logger?.error) {
      logger.error(`WebSocketTransport: ${where} threw`, { error });
      return;
    }
    queueMicrotask(() => {
      throw error;
    });
  }
}

function parseEndpoint(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new TypeError(`WebSocketTransport: "${String(url)}" is not an absolute URL; pass one such as "ws://localhost:3000/ws".`);
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(`WebSocketTransport: the URL must start with ws://, wss://, http:// or https://, got "${parsed.protocol}".`);
  }
  parsed.hash = "";
  return parsed;
}

const POSITIVE = { min: 0, aboveMin: true } as const;

function refusalHint(status: number): string {
  switch (status) {
    case 400:
      return "Check the URL's query parameters (a docId must be 1-256 characters from [A-Za-z0-9._~:-]).";
    case 401:
      return "Pass a valid `token` option (a function, to get a fresh token on every connection).";
    case 403:
      return "The server does not accept this origin or these credentials.";
    case 404:
      return "Check the path: the protocol endpoint is /ws.";
    default:
      return "See the server's logs.";
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
