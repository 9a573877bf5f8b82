import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { CloseCode, DEFAULT_DOC_ID, isValidDocId, type Logger } from "@open-ot/core";
import { WebSocketServer, type WebSocket } from "ws";
import type { HubLike } from "./hub-like.js";
import { readUpgradeRequest, refuseUpgrade, type UpgradeRequestInfo } from "./upgrade-request.js";
import { WebSocketConnection, type ResolvedRateLimit, type WebSocketConnectionSettings } from "./websocket-connection.js";

/** Per-connection rate limit: a token bucket, one token per message (per element of a batch). */
export interface RateLimitOptions {
  /** Sustained messages per second. @default 100 */
  messagesPerSecond?: number;
  /** Messages a connection may send at once before the sustained rate applies. @default 200 */
  burst?: number;
  /**
   * Over the limit, each message is dropped and answered with `error` code `rate_limited`;
   * after this many in a row (no accepted message between them) the next one closes the
   * connection with 4029. @default 10
   */
  maxRefused?: number;
}

/** Options of {@link attachWebSocketServer}. */
export interface WebSocketServerOptions {
  /** The hub connections are plugged into (`Hub` from @open-ot/server). */
  hub: HubLike;
  /** The HTTP server whose `upgrade` requests on the binding's paths are taken over. */
  server: HttpServer;
  /** The path of the protocol endpoint. @default "/ws" */
  path?: string;
  /**
   * Also serve the root path `/` for clients written for the published OpenOT examples: each
   * connection is joined at once to the document in `?docId=` (else `defaultDocId`).
   * @default true
   */
  legacyRootPath?: boolean;
  /** The document root-path connections join when their URL names none. @default hub.defaultDocId, else "doc-1" */
  defaultDocId?: string;
  /**
   * Check the token (from `Authorization: Bearer`, else the `token` query parameter) before
   * upgrading. A missing token or a `false` answer is refused with HTTP 401; a throw or
   * rejection with HTTP 500. Nothing is upgraded in either case.
   * @default undefined (no authentication)
   */
  verifyToken?: (token: string, request: IncomingMessage) => boolean | Promise<boolean>;
  /**
   * Origins allowed to connect, as exact `Origin` header values (`"https://app.example.com"`),
   * or a predicate. Others are refused with HTTP 403. With a list, requests without an
   * `Origin` header (non-browser clients, which could forge it anyway) are allowed.
   * @default undefined (any origin)
   */
  allowedOrigins?: readonly string[] | ((origin: string | undefined, request: IncomingMessage) => boolean);
  /** The largest inbound message, in bytes; a larger one closes the connection with 1009. @default 1048576 (1 MiB) */
  maxMessageBytes?: number;
  /** Per-connection rate limit, or `false` for none. @default { messagesPerSecond: 100, burst: 200, maxRefused: 10 } */
  rateLimit?: RateLimitOptions | false;
  /**
   * Interval of ping frames; a connection that has not answered the previous one by the next
   * tick is terminated. `0` turns heartbeats off. @default 30000
   */
  pingIntervalMs?: number;
  /**
   * How long a closing handshake may take before the connection is dropped; `close()` waits
   * this long for clients to leave before terminating them. @default 5000
   */
  closeTimeoutMs?: number;
  /**
   * Slow-consumer bound: a connection with more than this many bytes waiting to be sent, still
   * over it `slowConsumerGraceMs` later, is closed with 1011. @default 8388608 (8 MiB)
   */
  maxBufferedBytes?: number;
  /** See `maxBufferedBytes`. @default 5000 */
  slowConsumerGraceMs?: number;
  /** Receives token-check failures, dropped connections and lifecycle details. @default undefined (silent) */
  logger?: Logger;
}

/** A running WebSocket binding; see {@link attachWebSocketServer}. */
export interface WebSocketBinding {
  /** Open WebSocket connections. */
  readonly connectionCount: number;
  /**
   * Shut down gracefully: refuse new upgrades (HTTP 503), close every connection with 1001,
   * wait up to `closeTimeoutMs` for clients to leave, terminate the rest, wait (within the
   * same bound) for the hub to finish what they sent, and release the `upgrade` listener.
   * The HTTP server itself stays open. Safe to call more than once.
   */
  close(): Promise<void>;
}

const DEFAULTS = {
  path: "/ws",
  maxMessageBytes: 1024 * 1024,
  messagesPerSecond: 100,
  burst: 200,
  maxRefused: 10,
  pingIntervalMs: 30_000,
  closeTimeoutMs: 5_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  slowConsumerGraceMs: 5_000,
} as const;

/**
 * Serve the OpenOT protocol over WebSocket on an existing HTTP server: `ws://host/ws` for
 * protocol clients, and `ws://host/` (unless turned off) for legacy OpenOT clients.
 *
 * Upgrades are taken with `noServer` from the server's `upgrade` event, so other paths stay
 * free for other handlers, and bad requests are answered before upgrading: 403 for an origin
 * not allowed, 400 for an invalid `docId` on the root path, 401 for a missing or refused
 * token, 503 while shutting down. `?batch=1` opts a connection in to batched frames.
 *
 * Invalid UTF-8 in a frame is answered with `bad_message` and the connection stays open.
 *
 * ```ts
 * const server = http.createServer();
 * const binding = attachWebSocketServer({ hub, server });
 * server.listen(3000);
 * // later: await binding.close(); server.close();
 * ```
 */
export function attachWebSocketServer(options: WebSocketServerOptions): WebSocketBinding {
  return new WebSocketServerBinding(options);
}

/**
 * Lifecycle: `listening -> closing -> closed`; `closing` and `closed` carry the promise
 * `close()` returns.
 */
type BindingState =
  | { readonly name: "listening" }
  | { readonly name: "closing"; readonly done: Promise<void> }
  | { readonly name: "closed"; readonly done: Promise<void> };

type Route = { readonly kind: "protocol" } | { readonly kind: "legacy" };

class WebSocketServerBinding implements WebSocketBinding {
  private state: BindingState = { name: "listening" };
  private readonly connections = new Set<WebSocketConnection>();
  private readonly wss: WebSocketServer;
  private readonly pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly path: string;
  private readonly legacyRootPath: boolean;
  private readonly defaultDocId: string;
  private readonly closeTimeoutMs: number;
  private readonly settings: WebSocketConnectionSettings;
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.handleUpgrade(request, socket, head);

  constructor(private readonly options: WebSocketServerOptions) {
    if (typeof options.hub?.connect !== "function") {
      throw new TypeError("attachWebSocketServer: `hub` must be a Hub from @open-ot/server (it needs connect()).");
    }
    if (typeof options.server?.on !== "function") {
      throw new TypeError("attachWebSocketServer: `server` must be an http.Server.");
    }
    this.path = options.path ?? DEFAULTS.path;
    if (!this.path.startsWith("/") || this.path === "/") {
      throw new TypeError(`attachWebSocketServer: \`path\` must start with "/" and not be "/" (the legacy root path), got "${this.path}".`);
    }
    this.legacyRootPath = options.legacyRootPath ?? true;
    this.defaultDocId = options.defaultDocId ?? options.hub.defaultDocId ?? DEFAULT_DOC_ID;
    if (!isValidDocId(this.defaultDocId)) {
      throw new TypeError(`attachWebSocketServer: defaultDocId "${this.defaultDocId}" is not a valid docId (1-256 of [A-Za-z0-9._~:-]).`);
    }
    const maxMessageBytes = positiveInteger("maxMessageBytes", options.maxMessageBytes, DEFAULTS.maxMessageBytes);
    const pingIntervalMs = nonNegative("pingIntervalMs", options.pingIntervalMs, DEFAULTS.pingIntervalMs);
    this.closeTimeoutMs = nonNegative("closeTimeoutMs", options.closeTimeoutMs, DEFAULTS.closeTimeoutMs);
    this.settings = {
      rateLimit: resolveRateLimit(options.rateLimit),
      maxBufferedBytes: positiveInteger("maxBufferedBytes", options.maxBufferedBytes, DEFAULTS.maxBufferedBytes),
      slowConsumerGraceMs: nonNegative("slowConsumerGraceMs", options.slowConsumerGraceMs, DEFAULTS.slowConsumerGraceMs),
      closeTimeoutMs: this.closeTimeoutMs,
      logger: options.logger,
    };

    this.wss = new WebSocketServer({
      noServer: true,
      // ws closes a connection whose message exceeds maxPayload with 1009.
      maxPayload: maxMessageBytes,
      // Compression costs memory per connection and CPU per message (and has been a DoS vector);
      // OT messages are small.
      perMessageDeflate: false,
      // Validated by core's fatal decoder instead, which answers bad_message and keeps the
      // connection open, where ws would close it with 1007.
      skipUTF8Validation: true,
    });
    // Errors on the server object itself (none expected in noServer mode) must not crash.
    this.wss.on("error", (error: Error) => options.logger?.error?.("WebSocketServer error", { error }));
    options.server.on("upgrade", this.onUpgrade);

    if (pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => {
        for (const connection of this.connections) connection.heartbeat();
      }, pingIntervalMs);
      this.pingTimer.unref?.();
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  close(): Promise<void> {
    if (this.state.name !== "listening") return this.state.done;
    const done = this.shutdown();
    this.setState({ name: "closing", done });
    return done;
  }

  private setState(next: BindingState): void {
    this.options.logger?.debug?.(`WebSocket binding ${this.state.name} -> ${next.name}`);
    this.state = next;
  }

  private route(info: UpgradeRequestInfo): Route | undefined {
    if (info.pathname === this.path) return { kind: "protocol" };
    if (this.legacyRootPath && info.pathname === "/") return { kind: "legacy" };
    return undefined;
  }

  private handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const info = readUpgradeRequest(request);
    const route = this.route(info);
    // Another path: leave it to the server's other upgrade listeners.
    if (route === undefined) return;
    // A client that resets the connection while we check its token must not crash the server.
    socket.on("error", (error: Error) => this.options.logger?.debug?.("Upgrade socket error", { error: error.message }));
    this.admit(request, socket, head, info, route).catch((error: unknown) => {
      this.options.logger?.error?.("WebSocket upgrade failed", { error });
      refuseUpgrade(socket, 500, "The server failed while accepting the connection.");
    });
  }

  private async admit(request: IncomingMessage, socket: Duplex, head: Buffer, info: UpgradeRequestInfo, route: Route): Promise<void> {
    if (this.state.name !== "listening") {
      refuseUpgrade(socket, 503, "The server is shutting down: connect again shortly.");
      return;
    }
    if (!this.originAllowed(info.origin, request)) {
      refuseUpgrade(socket, 403, `Origin ${info.origin ?? "(none)"} is not allowed to connect.`);
      return;
    }
    let autoJoin: string | undefined;
    if (route.kind === "legacy") {
      const docId = info.query.get("docId");
      if (docId !== null && !isValidDocId(docId)) {
        refuseUpgrade(socket, 400, "The docId query parameter must be 1 to 256 characters from [A-Za-z0-9._~:-].");
        return;
      }
      autoJoin = docId ?? this.defaultDocId;
    }
    const verifyToken = this.options.verifyToken;
    if (verifyToken !== undefined) {
      if (info.token === undefined) {
        refuseUpgrade(socket, 401, "Missing token: send it in the `token` query parameter or an `Authorization: Bearer` header.");
        return;
      }
      let accepted: boolean;
      try {
        accepted = await verifyToken(info.token, request);
      } catch (error) {
        this.options.logger?.error?.("verifyToken threw; refusing the upgrade with 500", { error });
        refuseUpgrade(socket, 500, "The server could not check the token.");
        return;
      }
      if (accepted !== true) {
        refuseUpgrade(socket, 401, "The token was refused: get a new one.");
        return;
      }
      // The check may have taken a while: the client or the server may be gone by now.
      if (socket.destroyed) return;
      if (this.state.name !== "listening") {
        refuseUpgrade(socket, 503, "The server is shutting down: connect again shortly.");
        return;
      }
    }
    const batch = isTruthyFlag(info.query.get("batch"));
    this.wss.handleUpgrade(request, socket, head, (ws: WebSocket) => this.accept(ws, { batch, autoJoin }));
  }

  private originAllowed(origin: string | undefined, request: IncomingMessage): boolean {
    const allowed = this.options.allowedOrigins;
    if (allowed === undefined) return true;
    if (typeof allowed === "function") {
      try {
        return allowed(origin, request) === true;
      } catch (error) {
        this.options.logger?.error?.("allowedOrigins threw; refusing the origin", { error });
        return false;
      }
    }
    return origin === undefined || allowed.includes(origin);
  }

  private accept(ws: WebSocket, connect: { batch: boolean; autoJoin: string | undefined }): void {
    const connection = new WebSocketConnection(ws, this.settings);
    if (this.state.name !== "listening") {
      connection.close(CloseCode.GOING_AWAY, "server going away");
      return;
    }
    this.connections.add(connection);
    void connection.closed.then(() => this.connections.delete(connection));
    connection.start(this.options.hub, connect.autoJoin === undefined ? { batch: connect.batch } : { batch: connect.batch, autoJoin: connect.autoJoin });
    this.options.logger?.debug?.("WebSocket connection accepted", { session: connection.id, ...connect });
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.pingTimer);
    const connections = [...this.connections];
    for (const connection of connections) connection.close(CloseCode.GOING_AWAY, "server going away");
    const allClosed = Promise.all(connections.map((c) => c.closed)).then(() => true);
    if (!(await withinTimeout(allClosed, this.closeTimeoutMs))) {
      for (const connection of connections) connection.terminate();
      await allClosed;
    }
    // What the clients sent before leaving is still being committed: let it finish, so that the
    // caller can close the backend afterwards.
    await withinTimeout(Promise.all(connections.map((c) => c.idle())), this.closeTimeoutMs);
    this.options.server.off("upgrade", this.onUpgrade);
    this.wss.close();
    this.setState({ name: "closed", done: this.state.name === "closing" ? this.state.done : Promise.resolve() });
  }
}

/** True if `promise` settled within `ms`; false if the time ran out first. */
async function withinTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isTruthyFlag(value: string | null): boolean {
  return value === "1" || value === "true";
}

function resolveRateLimit(option: RateLimitOptions | false | undefined): ResolvedRateLimit | undefined {
  if (option === false) return undefined;
  return {
    messagesPerSecond: positiveNumber("rateLimit.messagesPerSecond", option?.messagesPerSecond, DEFAULTS.messagesPerSecond),
    burst: atLeastOne("rateLimit.burst", option?.burst, DEFAULTS.burst),
    maxRefused: nonNegative("rateLimit.maxRefused", option?.maxRefused, DEFAULTS.maxRefused),
  };
}

function positiveNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`attachWebSocketServer: ${name} must be a positive number, got ${String(value)}.`);
  }
  return value;
}

function atLeastOne(name: string, value: number | undefined, fallback: number): number {
  const n = positiveNumber(name, value, fallback);
  if (n < 1) throw new TypeError(`attachWebSocketServer: ${name} must be at least 1, got ${n}.`);
  return n;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const n = positiveNumber(name, value, fallback);
  if (!Number.isInteger(n)) throw new TypeError(`attachWebSocketServer: ${name} must be a whole number, got ${n}.`);
  return n;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`attachWebSocketServer: ${name} must be a number of at least 0, got ${String(value)}.`);
  }
  return value;
}
