import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Duplex } from "node:stream";
import { checkNumberOption, CloseCode, DEFAULT_DOC_ID, isValidDocId, type Logger, type NumberOptionRule } from "@open-ot/core";
import {
  parseRequestTarget,
  policyFor,
  refusals,
  type Admission,
  type ConnectionPolicy,
  type ConnectionPolicyOptions,
  type Refusal,
  type RequestTarget,
  tryReport,
  type ServerMetrics,
} from "@open-ot/server";
import { WebSocketServer, type WebSocket } from "ws";
import { BoundedWebSocket } from "./bounded-websocket.js";
import { truncateCloseReason } from "./close-reason.js";
import type { HubLike } from "./hub-like.js";
import { readUpgradeCredentials, refuseUpgrade } from "./upgrade-request.js";
import { WebSocketConnection, type WebSocketConnectionSettings } from "./websocket-connection.js";

/**
 * Options of {@link attachWebSocketServer}. The connection policy (origins, tokens, client
 * addresses, limits) has the same options as the SSE binding's, documented on
 * `ConnectionPolicyOptions` of @open-ot/server; or pass one shared `policy` instead.
 */
export interface WebSocketServerOptions extends ConnectionPolicyOptions {
  /** The hub connections are plugged into (`Hub` from @open-ot/server). */
  hub: HubLike;
  /** The HTTP server whose `upgrade` requests are taken over. */
  server: HttpServer;
  /**
   * A policy shared with other bindings (`createConnectionPolicy()` of @open-ot/server), so
   * that their connections count together and `policy.revoke()` reaches all of them. Not
   * together with the policy options themselves.
   * @default a policy built from this binding's options
   */
  policy?: ConnectionPolicy;
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
   * The most frames one message may arrive in; more close the connection with 1009 (each
   * fragment costs memory of its own, beyond its bytes).
   * @default 1024
   */
  maxMessageFragments?: number;
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
  /** Receives refusals, dropped connections and lifecycle details, with client addresses. @default undefined (silent) */
  logger?: Logger;
  /** Where to report connections, refused upgrades and queued bytes (see `ServerMetrics` of @open-ot/server). @default hub.metrics */
  metrics?: ServerMetrics;
}

/** A running WebSocket binding; see {@link attachWebSocketServer}. */
export interface WebSocketBinding {
  /** Open WebSocket connections. */
  readonly connectionCount: number;
  /** The connection policy this binding applies; `policy.revoke(principal)` closes a principal's connections with 4003. */
  readonly policy: ConnectionPolicy;
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
  maxMessageFragments: 1024,
  pingIntervalMs: 30_000,
  closeTimeoutMs: 5_000,
} as const;

const NUMBER_RULES = {
  maxMessageFragments: { min: 1, integer: true },
  pingIntervalMs: { min: 0 },
  closeTimeoutMs: { min: 0 },
} as const satisfies Record<string, NumberOptionRule>;

/** The bindings attached to each HTTP server, so that they agree on who answers an upgrade none of them serves. */
const bindingsByServer = new WeakMap<HttpServer, Set<WebSocketServerBinding>>();

/**
 * Serve the OpenOT protocol over WebSocket on an existing HTTP server: `ws://host/ws` for
 * protocol clients, and `ws://host/` (unless turned off) for legacy OpenOT clients.
 *
 * Upgrades are taken with `noServer` from the server's `upgrade` event, and refused ones are
 * answered before upgrading (or, with `refuseInBand`, upgraded and closed at once with the
 * close code): 404 for a path nobody serves (unless the application added an `upgrade`
 * listener of its own, which then answers it), 400 for a request target that is not a path or
 * an invalid `docId` on the root path, 503 while shutting down or at `maxConnections`, 429 past
 * the per-address limits, 403 for an origin not allowed, 401 for a missing or refused token.
 * `?batch=1` opts a connection in to batched frames.
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
  readonly policy: ConnectionPolicy;
  private state: BindingState = { name: "listening" };
  private readonly connections = new Set<WebSocketConnection>();
  private readonly wss: WebSocketServer;
  private readonly pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly path: string;
  private readonly legacyRootPath: boolean;
  private readonly defaultDocId: string;
  private readonly closeTimeoutMs: number;
  private readonly settings: WebSocketConnectionSettings;
  private readonly metrics: ServerMetrics | undefined;
  private readonly unwatchQueued: (() => void) | undefined;
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => this.handleUpgrade(request, socket, head);

  constructor(private readonly options: WebSocketServerOptions) {
    if (typeof options.hub?.connect !== "function") {
      throw new TypeError("attachWebSocketServer: `hub` must be a Hub from @open-ot/server (it needs connect()).");
    }
    if (typeof options.server?.on !== "function") {
      throw new TypeError("attachWebSocketServer: `server` must be an http.Server.");
    }
    this.path = options.path ?? DEFAULTS.path;
    if (!this.path.startsWith("/") || this.path === "/" || parseRequestTarget(this.path)?.pathname !== this.path) {
      throw new TypeError(
        `attachWebSocketServer: \`path\` must be a path starting with "/" and not be "/" (the legacy root path), got "${this.path}".`,
      );
    }
    this.legacyRootPath = options.legacyRootPath ?? true;
    this.defaultDocId = options.defaultDocId ?? options.hub.defaultDocId ?? DEFAULT_DOC_ID;
    if (!isValidDocId(this.defaultDocId)) {
      throw new TypeError(
        `attachWebSocketServer: defaultDocId ${JSON.stringify(options.defaultDocId ?? options.hub.defaultDocId)} is not a valid docId (1-256 of [A-Za-z0-9._~:-]).`,
      );
    }
    this.policy = policyFor(options, "attachWebSocketServer");
    this.metrics = options.metrics ?? options.hub.metrics;
    this.unwatchQueued = tryReport(() =>
      this.metrics?.watchQueuedBytes?.("websocket", () => {
        let bytes = 0;
        for (const connection of this.connections) bytes += connection.bufferedBytes;
        return bytes;
      }),
    );
    const numberOption = (name: keyof typeof NUMBER_RULES): number =>
      options[name] === undefined ? DEFAULTS[name] : checkNumberOption("attachWebSocketServer", name, options[name], NUMBER_RULES[name]);
    const maxMessageFragments = numberOption("maxMessageFragments");
    const pingIntervalMs = numberOption("pingIntervalMs");
    this.closeTimeoutMs = numberOption("closeTimeoutMs");
    this.settings = {
      maxBufferedBytes: this.policy.limits.maxBufferedBytes,
      closeTimeoutMs: this.closeTimeoutMs,
      logger: options.logger,
    };

    this.wss = new WebSocketServer({
      noServer: true,
      WebSocket: BoundedWebSocket,
      // ws closes a connection whose message exceeds maxPayload with 1009.
      maxPayload: this.policy.limits.maxMessageBytes,
      // Each fragment is a buffer of its own; ws closes past this (BoundedWebSocket: with 1009).
      maxFragments: maxMessageFragments,
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
    let siblings = bindingsByServer.get(options.server);
    if (siblings === undefined) bindingsByServer.set(options.server, (siblings = new Set()));
    siblings.add(this);

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

  private route(target: RequestTarget | undefined): Route | undefined {
    if (target === undefined) return undefined;
    if (target.pathname === this.path) return { kind: "protocol" };
    if (this.legacyRootPath && target.pathname === "/") return { kind: "legacy" };
    return undefined;
  }

  private handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = parseRequestTarget(request.url);
    const route = this.route(target);
    if (route === undefined) {
      this.answerUnserved(request, socket, target);
      return;
    }
    // A client that resets the connection while we check its token must not crash the server.
    socket.on("error", (error: Error) => this.options.logger?.debug?.("Upgrade socket error", { error: error.message }));
    this.admit(request, socket, head, target as RequestTarget, route).catch((error: unknown) => {
      this.options.logger?.error?.("WebSocket upgrade failed", { error });
      this.report(refusals.tokenCheckFailed());
      refuseUpgrade(socket, refusals.tokenCheckFailed());
    });
  }

  /**
   * An upgrade no binding on this server serves. Node hands every upgrade to the `upgrade`
   * listeners and nothing else, so one that no listener answers stays open for good (and a
   * flood of them takes every file descriptor). It is answered here (404, or 400 for a target
   * that is not a path) unless the application added an `upgrade` listener of its own, which
   * must then answer it; among several bindings on one server, the first one answers.
   */
  private answerUnserved(request: IncomingMessage, socket: Duplex, target: RequestTarget | undefined): void {
    const siblings = bindingsByServer.get(this.options.server);
    if (siblings === undefined || siblings.values().next().value !== this) return;
    for (const sibling of siblings) if (sibling.route(target) !== undefined) return;
    if (this.options.server.listenerCount("upgrade") > siblings.size) return;
    socket.on("error", () => undefined);
    const refusal = target === undefined ? refusals.badTarget() : refusals.notServed(target.pathname);
    this.options.logger?.debug?.("Unserved upgrade refused", { status: refusal.status, remoteAddress: this.policy.clientAddress(request) });
    this.report(refusal);
    refuseUpgrade(socket, refusal);
  }

  private async admit(request: IncomingMessage, socket: Duplex, head: Buffer, target: RequestTarget, route: Route): Promise<void> {
    if (this.state.name !== "listening") {
      this.refuse(request, socket, head, refusals.shuttingDown());
      return;
    }
    let autoJoin: string | undefined;
    if (route.kind === "legacy") {
      const docId = target.query.get("docId");
      if (docId !== null && !isValidDocId(docId)) {
        this.refuse(request, socket, head, {
          status: 400,
          code: "bad_message",
          closeCode: CloseCode.POLICY_VIOLATION,
          message: "The docId query parameter must be 1 to 256 characters from [A-Za-z0-9._~:-].",
        });
        return;
      }
      autoJoin = docId ?? this.defaultDocId;
    }
    const result = await this.policy.admit(request, readUpgradeCredentials(request, target.query));
    if (!result.ok) {
      this.refuse(request, socket, head, result.refusal);
      return;
    }
    const { admission } = result;
    // ws answers a malformed handshake itself without calling back: the admission must not
    // stay counted against the address then.
    socket.once("close", () => admission.abandon());
    // The check may have taken a while: the client or the server may be gone by now.
    if (socket.destroyed) return;
    if (this.state.name !== "listening") {
      admission.abandon();
      this.refuse(request, socket, head, refusals.shuttingDown());
      return;
    }
    const batch = isTruthyFlag(target.query.get("batch"));
    this.wss.handleUpgrade(request, socket, head, (ws: WebSocket) => this.accept(ws, admission, { batch, autoJoin }));
  }

  /**
   * Refuse an upgrade: with an HTTP status, or, with `refuseInBand`, by upgrading it and closing
   * at once with the refusal's close code, which is all a browser can read.
   */
  private refuse(request: IncomingMessage, socket: Duplex, head: Buffer, refusal: Refusal): void {
    this.report(refusal);
    if (!this.policy.refuseInBand || socket.destroyed) {
      refuseUpgrade(socket, refusal);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      ws.on("error", () => undefined);
      ws.close(refusal.closeCode, truncateCloseReason(refusal.message));
      const timer = setTimeout(() => ws.terminate(), this.closeTimeoutMs);
      timer.unref?.();
      ws.once("close", () => clearTimeout(timer));
    });
  }

  /** Count a refused upgrade in the metrics. */
  private report(refusal: Refusal): void {
    tryReport(() => this.metrics?.refused?.(refusal.code, "request"));
  }

  private accept(ws: WebSocket, admission: Admission, connect: { batch: boolean; autoJoin: string | undefined }): void {
    const { remoteAddress, principal } = admission;
    const connection = new WebSocketConnection(ws, this.settings, this.policy.createGate(), remoteAddress);
    if (this.state.name !== "listening") {
      admission.abandon();
      connection.close(CloseCode.GOING_AWAY, "server going away");
      return;
    }
    const release = admission.open(connection);
    this.connections.add(connection);
    void connection.closed.then(() => {
      this.connections.delete(connection);
      release();
    });
    connection.start(this.options.hub, {
      transport: "websocket",
      batch: connect.batch,
      remoteAddress,
      ...(connect.autoJoin === undefined ? {} : { autoJoin: connect.autoJoin }),
      ...(principal === undefined ? {} : { principal }),
    });
    this.options.logger?.debug?.("WebSocket connection accepted", { session: connection.id, remoteAddress, principal, ...connect });
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.pingTimer);
    this.unwatchQueued?.();
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
    bindingsByServer.get(this.options.server)?.delete(this);
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
