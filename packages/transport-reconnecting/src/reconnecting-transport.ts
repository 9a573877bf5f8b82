/**
 * `ReconnectingTransport`: a `TransportAdapter` that wraps any other one (WebSocket, SSE, ...)
 * and keeps a connection up across drops, server restarts and half-open sockets.
 */
import {
  checkNumberOption,
  describeCloseCode,
  randomClientId,
  silentLogger,
  type HandshakeCapable,
  type Logger,
  type PingMessage,
  type TransportAdapter,
  type TransportCloseEvent,
} from "@open-ot/core";
import { DEFAULT_BACKOFF, exponentialBackoff, type BackoffFunction, type BackoffOptions } from "./backoff.js";
import { closeEventFromError } from "./close-event-from-error.js";
import { defaultClosePolicy, type ClosePolicy } from "./close-policy.js";
import { DEFAULT_HEARTBEAT, Heartbeat, type HeartbeatOptions } from "./heartbeat.js";
import { OfflineQueue, type OfflineQueueOptions } from "./offline-queue.js";
import { ReconnectingTransportError } from "./reconnecting-transport-error.js";

/** Where the wrapper is, for a UI. See the lifecycle drawn on {@link ReconnectingTransport}. */
export type ReconnectingState = "connecting" | "open" | "reconnecting" | "closed";

/** A snapshot of the wrapper's status, for a UI ("Reconnecting in 3 s"). */
export interface ReconnectingStatus {
  /** `connecting` until the first connection of a `connect()` opens, `reconnecting` after it dropped. */
  readonly state: ReconnectingState;
  /**
   * The number of the connection attempt in progress or scheduled, counted from 1 since
   * `connect()` or since the last connection that stayed up for `minUptime`; 0 once reset.
   */
  readonly attempt: number;
  /** When the next attempt starts (epoch milliseconds), while one is scheduled. */
  readonly nextRetryAt: number | undefined;
  /** The close code that ended the last connection or attempt (see `CloseCode` in @open-ot/core). */
  readonly lastCloseCode: number | undefined;
  /** Why the last connection or attempt ended; after a stop, what to change. */
  readonly lastCloseReason: string | undefined;
}

/**
 * Where the wrapper reports what it does: core's `Logger`, under the name this package has
 * always exported. It never writes to the console itself.
 */
export type ReconnectingLogger = Logger;

/** A handshake, as registered with {@link ReconnectingTransport.setHandshake}. */
export type Handshake<M> = (send: (message: M) => Promise<void>) => Promise<void> | void;

/** Options of {@link ReconnectingTransport}. */
export interface ReconnectingTransportOptions {
  /**
   * The delay before each retry: options of {@link exponentialBackoff} (full jitter), or any
   * pure `(attempt, random) => ms` function.
   * @default exponentialBackoff({ initialDelay: 500, maxDelay: 30000, factor: 2 })
   */
  backoff?: BackoffOptions | BackoffFunction;
  /**
   * Give up (a final stop, reported through `onClose`) when attempt number `maxAttempts + 1`
   * would start: that many attempts failed in a row, a connection that dropped before
   * `minUptime` counting as failed.
   * @default Infinity
   */
  maxAttempts?: number;
  /**
   * Milliseconds one attempt may take, from calling the factory to the end of the handshake;
   * then it counts as failed (close code 1006).
   * @default 10000
   */
  connectTimeout?: number;
  /**
   * Milliseconds a connection must stay open before the attempt counter (and with it the
   * backoff) starts again from the beginning. A server that accepts and drops at once thus
   * still meets a growing backoff.
   * @default 5000
   */
  minUptime?: number;
  /** Decides what each close code leads to. @default defaultClosePolicy (the close-code table of docs/protocol.md) */
  closePolicy?: ClosePolicy;
  /**
   * Application-level `{type: "ping", t}` heartbeat on every open connection; a missing pong
   * counts as a drop (1006). `false` turns it off (for servers that do not speak the OpenOT
   * protocol). Its own pongs are not passed to `onReceive`.
   * @default { interval: 25000, timeout: 10000 }
   */
  heartbeat?: HeartbeatOptions | false;
  /**
   * Keep messages sent while not open and send them, in order, after the next handshake.
   * `false`: `send()` between attempts rejects with `offline`; during an attempt it waits for
   * that attempt (sent after its handshake, or rejected with `offline` if it fails).
   * @default { maxMessages: 1000, maxBytes: 1048576 }
   */
  queue?: OfflineQueueOptions | false;
  /**
   * In browsers, try at once on the `online` event and when a hidden tab becomes visible (and
   * check an open connection with a heartbeat ping then). No effect where there is no
   * `globalThis.addEventListener` (Node).
   * @default true
   */
  browserEvents?: boolean;
  /** Uniform random numbers in `[0, 1)` for jitter. @default Math.random */
  random?: () => number;
  /**
   * Where to report what the wrapper does: transitions and attempts at `debug`; a final stop,
   * a throwing factory or a failed inner `disconnect()` at `warn`; a status or close listener
   * that threw at `error`.
   * @default no logging
   */
  logger?: Logger;
}

interface Session<M> {
  onReceive: (message: M) => void;
  /** Settles `connect()`; dropped after the first open (later stops go to `onClose`). */
  firstOpen: { resolve(): void; reject(error: Error): void } | undefined;
  readonly connected: Promise<void>;
  /** Attempts since `connect()` or since the last connection that lived `minUptime`. */
  attempt: number;
  /** The close code of the last failure and how many failures in a row had it. */
  lastCode: number | undefined;
  sameCodeCount: number;
  /** Failures since the last 1001 of this streak (0 for the 1001 itself), if there was one. */
  sinceGoingAway: number | undefined;
  readonly removeBrowserListeners: () => void;
}

type Timer = ReturnType<typeof setTimeout>;

// The wrapper's one state variable, changed only in #setPhase. Every state but `closed` carries
// the session of the current `connect()`; `attempting` and `open` carry the inner transport and
// its epoch. (`status.state` is derived from it: waiting and attempting show as connecting or
// reconnecting, depending on whether this session has been open yet.)
//
//   closed --connect()--> attempting --handshake done--> open --drop, dead heartbeat--> waiting
//   attempting --failed, timed out--> waiting --timer, online, visible, retryNow()--> attempting
//   attempting | open | waiting --policy stop, maxAttempts, disconnect()--> closed
type Phase<M> =
  | { readonly kind: "closed" }
  | {
      readonly kind: "waiting";
      readonly session: Session<M>;
      readonly nextRetryAt: number;
      readonly timer: Timer;
    }
  | {
      readonly kind: "attempting";
      readonly session: Session<M>;
      readonly epoch: number;
      readonly inner: TransportAdapter<M>;
      readonly timer: Timer;
      readonly unsubscribe: () => void;
      /**
       * With the offline queue off: what was sent during this attempt, sent after its handshake
       * or rejected when it fails. Messages of the attempt's connection reach `onReceive`
       * before the handshake has settled (a join answered before its POST returned 202), and
       * what the receiver sends in reply belongs on that same connection.
       */
      readonly held: OfflineQueue<M> | undefined;
    }
  | {
      readonly kind: "open";
      readonly session: Session<M>;
      readonly epoch: number;
      readonly inner: TransportAdapter<M>;
      readonly uptimeTimer: Timer;
      readonly heartbeat: Heartbeat | undefined;
      readonly unsubscribe: () => void;
    };

type LivePhase<M> = Exclude<Phase<M>, { kind: "closed" | "waiting" }>;

const LEGAL: Readonly<Record<Phase<unknown>["kind"], readonly Phase<unknown>["kind"][]>> = {
  // closed -> waiting | closed: only when the factory throws on the first attempt.
  closed: ["attempting", "waiting", "closed"],
  attempting: ["open", "waiting", "closed"],
  open: ["waiting", "closed"],
  waiting: ["attempting", "waiting", "closed"],
};

const noop = (): void => undefined;

/**
 * A `TransportAdapter` that keeps a connection up: it builds a fresh inner transport through
 * `factory` for every attempt, waits between attempts as `backoff` and `closePolicy` say, runs
 * the handshake (the OT client's `join` and resend) on every connection before anything queued,
 * keeps what is sent while down in a bounded queue, and finds dead connections with a heartbeat.
 *
 * Lifecycle (`status.state`; `connecting` and `reconnecting` each cover an attempt in progress
 * and the wait before the next one):
 * ```
 *   closed --connect()--> connecting --handshake done--> open --drop--> reconnecting
 *   connecting --attempt failed--> connecting (after a backoff)
 *   reconnecting --handshake done--> open
 *   connecting | open | reconnecting --policy stop, maxAttempts, disconnect()--> closed
 * ```
 * `onClose` reports only that last step; each drop in between shows in `onStatus`.
 *
 * Because the factory runs per attempt, a URL read inside it is fresh on every attempt; give
 * the inner transport a token function and it asks it on every attempt too, so a token renewed
 * during a long outage is used, and after a 4003 (token expired) the one renewal attempt that
 * the close policy grants gets a fresh token:
 * `new ReconnectingTransport(() => new WebSocketTransport(getUrl(), { token: getToken }))`.
 *
 * A queued `send()` resolves when its message is handed to a connection's transport (after
 * that connection's handshake), not when the server has it; it rejects if the hand-over fails,
 * if the queue is full, or on a final stop or `disconnect()`. Under an OT client the queue is a
 * convenience, not a source of truth: the client resends its pending op after each `join`, and
 * the server drops the copies as duplicates `(clientId, seq)`.
 *
 * @typeParam M - The message type of the inner transport.
 */
export class ReconnectingTransport<M = unknown> implements TransportAdapter<M>, HandshakeCapable<M> {
  readonly #factory: () => TransportAdapter<M>;
  readonly #backoff: BackoffFunction;
  readonly #maxAttempts: number;
  readonly #connectTimeout: number;
  readonly #minUptime: number;
  readonly #closePolicy: ClosePolicy;
  readonly #heartbeat: Required<HeartbeatOptions> | undefined;
  readonly #queue: OfflineQueue<M> | undefined;
  readonly #browserEvents: boolean;
  readonly #random: () => number;
  readonly #logger: Logger;
  // Heartbeat ping ids start with this, so its pongs (late ones too) are told from the app's.
  readonly #pingPrefix = `rt-${randomClientId(8)}-`;

  #phase: Phase<M> = { kind: "closed" };
  // Bumped for every attempt and every teardown: a callback carrying an older epoch comes from
  // a replaced inner transport and is ignored (ioredis `connectionEpoch`, issue #2099).
  #epoch = 0;
  #handshake: Handshake<M> | undefined;
  #lastClose: { code: number; reason: string } | undefined;
  #status: ReconnectingStatus;
  readonly #statusListeners = new Set<(status: ReconnectingStatus) => void>();
  readonly #closeListeners = new Set<(event: TransportCloseEvent) => void>();

  /**
   * @param factory - Builds a new, unconnected inner transport; called once per attempt.
   * @param options - See {@link ReconnectingTransportOptions}.
   */
  constructor(factory: () => TransportAdapter<M>, options: ReconnectingTransportOptions = {}) {
    if (typeof factory !== "function") {
      throw new TypeError(
        "ReconnectingTransport needs a factory function that builds a new inner transport per attempt, " +
          "e.g. new ReconnectingTransport(() => new WebSocketTransport(url))",
      );
    }
    this.#factory = factory;
    this.#backoff = typeof options.backoff === "function" ? options.backoff : exponentialBackoff(options.backoff ?? DEFAULT_BACKOFF);
    this.#maxAttempts = atLeast("maxAttempts", options.maxAttempts ?? Infinity, 1);
    this.#connectTimeout = atLeast("connectTimeout", options.connectTimeout ?? 10_000, 1);
    this.#minUptime = atLeast("minUptime", options.minUptime ?? 5_000, 0);
    this.#closePolicy = options.closePolicy ?? defaultClosePolicy;
    if (options.heartbeat !== false) {
      this.#heartbeat = {
        interval: atLeast("heartbeat.interval", options.heartbeat?.interval ?? DEFAULT_HEARTBEAT.interval, 1),
        timeout: atLeast("heartbeat.timeout", options.heartbeat?.timeout ?? DEFAULT_HEARTBEAT.timeout, 1),
      };
    }
    this.#queue = options.queue === false ? undefined : new OfflineQueue<M>(options.queue ?? {});
    this.#browserEvents = options.browserEvents ?? true;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger ?? silentLogger;
    this.#status = this.#computeStatus();
  }

  /** The current status; `onStatus` reports every change. */
  get status(): ReconnectingStatus {
    return this.#status;
  }

  /** Messages waiting in the offline queue. */
  get queueLength(): number {
    return this.#queue?.length ?? 0;
  }

  /**
   * Start connecting. Resolves when the first connection is open and its handshake done;
   * rejects if the wrapper stops for good before that (close policy, `maxAttempts`) or
   * `disconnect()` is called. Failed attempts in between are retried, not reported here.
   *
   * Calling it again while connecting or open returns the same promise and makes `onReceive`
   * the receiver from then on. After a stop or `disconnect()` it starts afresh.
   */
  connect(onReceive: (message: M) => void): Promise<void> {
    if (typeof onReceive !== "function") {
      return Promise.reject(new TypeError("ReconnectingTransport.connect(onReceive) needs a function that receives each message"));
    }
    const phase = this.#phase;
    if (phase.kind !== "closed") {
      phase.session.onReceive = onReceive;
      return phase.session.connected;
    }
    let settle: Session<M>["firstOpen"];
    const connected = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const session: Session<M> = {
      onReceive,
      firstOpen: settle,
      connected,
      attempt: 0,
      lastCode: undefined,
      sameCodeCount: 0,
      sinceGoingAway: undefined,
      removeBrowserListeners: this.#addBrowserListeners(),
    };
    this.#startAttempt(session);
    return connected;
  }

  /**
   * Send one message. Open: handed straight to the inner transport; if that fails, the promise
   * rejects with the inner transport's error and the connection counts as dropped (status
   * `reconnecting`, close code from the error's HTTP status, else 1006). Connecting or reconnecting:
   * queued (resolves when handed to the next connection after its handshake), or `queue_full`.
   * With the queue off: during an attempt, held for that attempt's connection (rejected with
   * `offline` if it fails); between attempts, rejected with `offline`. Closed: rejects with
   * `not_connected`.
   */
  send(message: M): Promise<void> {
    const phase = this.#phase;
    switch (phase.kind) {
      case "open":
        return this.#sendOn(phase.epoch, phase.inner, message);
      case "closed": {
        const last = this.#lastClose ? ` (last close: ${this.#lastClose.code}, ${this.#lastClose.reason})` : "";
        return Promise.reject(
          new ReconnectingTransportError("not_connected", `send() was called while the transport is closed${last}. Call connect() first.`),
        );
      }
      case "attempting":
      case "waiting":
        if (this.#queue === undefined && phase.kind === "attempting" && phase.held !== undefined) {
          return phase.held.enqueue(message);
        }
        if (this.#queue === undefined) {
          return Promise.reject(
            new ReconnectingTransportError(
              "offline",
              `send() was called while ${this.#status.state} and the offline queue is off (queue: false). ` +
                'Wait for status "open" (onStatus), or turn the queue on.',
            ),
          );
        }
        return this.#queue.enqueue(message);
    }
  }

  /**
   * Close for good: the connection, any scheduled attempt, the browser listeners. Queued sends
   * and a pending `connect()` reject with `disconnected`; `onClose` gets code 1000 with
   * `local: true`. Safe to call more than once.
   */
  async disconnect(): Promise<void> {
    const phase = this.#phase;
    if (phase.kind === "closed") return;
    this.#epoch += 1;
    const inner = this.#teardown(phase);
    const event: TransportCloseEvent = { code: 1000, reason: "disconnect() was called", local: true };
    this.#lastClose = { code: event.code, reason: event.reason };
    this.#finish(phase.session, new ReconnectingTransportError("disconnected", "disconnect() was called before this could complete."));
    this.#emitClose(event);
    if (inner) await inner;
  }

  /**
   * Be told when the wrapper stops for good: a policy stop (1000, 4003, ...), `maxAttempts`, or
   * `disconnect()`. Drops it reconnects after are not reported here (see `onStatus`). After a
   * stop, `code` and `reason` are those of the last connection or attempt, and `error` is a
   * {@link ReconnectingTransportError} (`stopped`) whose message says what to change.
   * @returns a function that removes the listener
   */
  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    this.#closeListeners.add(listener);
    return () => {
      this.#closeListeners.delete(listener);
    };
  }

  /**
   * Be told of every status change (state, attempt, next retry time, last close).
   * Read `status` for the current value; the listener is not called at once.
   * @returns a function that removes the listener
   */
  onStatus(listener: (status: ReconnectingStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => {
      this.#statusListeners.delete(listener);
    };
  }

  /**
   * Run `handshake` on every connection, after it opens and before anything queued is sent;
   * its `send` goes straight to that connection. If it throws or rejects, the attempt counts
   * as failed. Takes effect from the next connection. `undefined` removes it.
   */
  setHandshake(handshake: Handshake<M> | undefined): void {
    if (handshake !== undefined && typeof handshake !== "function") {
      throw new TypeError("setHandshake expects a function (send) => Promise<void> | void, or undefined");
    }
    this.#handshake = handshake;
  }

  /** Skip the wait and try now, when an attempt is scheduled (a "Retry now" button). */
  retryNow(): void {
    const phase = this.#phase;
    if (phase.kind === "waiting") this.#retry(phase);
  }

  // ------------------------------------------------------------------ attempts

  #startAttempt(session: Session<M>): void {
    session.attempt += 1;
    const epoch = ++this.#epoch;
    let inner: TransportAdapter<M>;
    try {
      inner = this.#factory();
    } catch (error) {
      // A throwing factory (a token service that is down, say) is one failed attempt.
      this.#logger.warn?.("reconnecting-transport: the transport factory threw", { error });
      this.#afterFailure(session, closeEventFromError(error));
      return;
    }
    const unsubscribe = inner.onClose?.((event) => this.#fail(epoch, event)) ?? noop;
    const timer = setTimeout(() => {
      this.#fail(epoch, {
        code: 1006,
        reason: `no open connection and finished handshake within ${this.#connectTimeout} ms (connectTimeout)`,
        local: false,
      });
    }, this.#connectTimeout);
    const held = this.#queue === undefined ? new OfflineQueue<M>() : undefined;
    this.#setPhase({ kind: "attempting", session, epoch, inner, timer, unsubscribe, held });
    this.#logger.debug?.("reconnecting-transport: attempt", { attempt: session.attempt });
    // A status listener may have called disconnect() during that transition.
    if (epoch !== this.#epoch) return;

    let connecting: Promise<void>;
    try {
      connecting = inner.connect((message) => this.#receive(epoch, message));
    } catch (error) {
      connecting = Promise.reject(error);
    }
    connecting.then(
      () => this.#runHandshake(epoch, inner),
      (error: unknown) => this.#fail(epoch, closeEventFromError(error)),
    );
  }

  async #runHandshake(epoch: number, inner: TransportAdapter<M>): Promise<void> {
    if (epoch !== this.#epoch) {
      // This attempt was abandoned (timeout) while its connect was still on its way.
      void inner.disconnect().catch(noop);
      return;
    }
    const handshake = this.#handshake;
    if (handshake) {
      const send = (message: M): Promise<void> =>
        epoch === this.#epoch
          ? this.#sendOn(epoch, inner, message)
          : Promise.reject(
              new ReconnectingTransportError(
                "connection_replaced",
                "The handshake's connection was dropped; the handshake runs again on the next one.",
              ),
            );
      try {
        await handshake(send);
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        this.#fail(epoch, { code: 1006, reason: `the handshake failed: ${err.message}`, local: false, error: err });
        return;
      }
    }
    const phase = this.#phase;
    if (epoch !== this.#epoch || phase.kind !== "attempting") return;
    this.#open(phase);
  }

  #open(phase: Extract<Phase<M>, { kind: "attempting" }>): void {
    clearTimeout(phase.timer);
    const { session, epoch, inner } = phase;
    // Flush before the state says open: a status listener that sends must not overtake the queue.
    this.#queue?.flush((message) => this.#sendOn(epoch, inner, message));
    phase.held?.flush((message) => this.#sendOn(epoch, inner, message));
    const heartbeat = this.#heartbeat
      ? new Heartbeat(this.#heartbeat, this.#pingPrefix, {
          sendPing: (ping: PingMessage) => this.#sendOn(epoch, inner, ping as unknown as M),
          onDead: (reason, error) => this.#fail(epoch, { code: 1006, reason, local: false, ...(error ? { error } : {}) }),
        })
      : undefined;
    const uptimeTimer = setTimeout(() => {
      // Stayed up long enough: the next drop starts the backoff from the beginning again.
      if (this.#phase.kind !== "open" || epoch !== this.#epoch) return;
      session.attempt = 0;
      session.lastCode = undefined;
      session.sameCodeCount = 0;
      session.sinceGoingAway = undefined;
      this.#publishStatus();
    }, this.#minUptime);
    const first = session.firstOpen;
    session.firstOpen = undefined;
    // Started before the state changes, so a status listener that disconnects stops it too.
    heartbeat?.start();
    this.#setPhase({ kind: "open", session, epoch, inner, uptimeTimer, heartbeat, unsubscribe: phase.unsubscribe });
    first?.resolve();
  }

  /**
   * Hand `message` to the connection of `epoch`. A failed hand-over rejects the caller and also
   * ends that connection: a message lost on a connection that looks open (an SSE POST that
   * failed while its stream lives on) would otherwise leave an OT client waiting forever for
   * the ack of its op in flight; after a reconnection its handshake rejoins and resends.
   */
  #sendOn(epoch: number, inner: TransportAdapter<M>, message: M): Promise<void> {
    return handOver(inner, message).catch((error: unknown) => {
      const event = closeEventFromError(error);
      this.#fail(epoch, { ...event, reason: `a send failed: ${event.reason}` });
      throw error;
    });
  }

  #receive(epoch: number, message: M): void {
    if (epoch !== this.#epoch) return;
    const phase = this.#phase;
    if (phase.kind !== "attempting" && phase.kind !== "open") return;
    const pongT = this.#ownPongT(message);
    if (pongT !== undefined) {
      if (phase.kind === "open") phase.heartbeat?.pong(pongT);
      return;
    }
    phase.session.onReceive(message);
  }

  #ownPongT(message: unknown): string | undefined {
    if (typeof message !== "object" || message === null) return undefined;
    const { type, t } = message as { type?: unknown; t?: unknown };
    return type === "pong" && typeof t === "string" && t.startsWith(this.#pingPrefix) ? t : undefined;
  }

  // ------------------------------------------------------------------ failures

  /** The connection or attempt of `epoch` ended; ignored when it was already replaced. */
  #fail(epoch: number, event: TransportCloseEvent): void {
    if (epoch !== this.#epoch) return;
    const phase = this.#phase;
    if (phase.kind !== "attempting" && phase.kind !== "open") return;
    this.#epoch += 1;
    void this.#teardown(phase);
    this.#logger.debug?.("reconnecting-transport: connection ended", { code: event.code, reason: event.reason, state: phase.kind });
    this.#afterFailure(phase.session, event);
  }

  #afterFailure(session: Session<M>, event: TransportCloseEvent): void {
    this.#lastClose = { code: event.code, reason: event.reason };
    session.sameCodeCount = session.lastCode === event.code ? session.sameCodeCount + 1 : 1;
    session.lastCode = event.code;
    session.sinceGoingAway =
      describeCloseCode(event.code).advice === "reconnect-now"
        ? 0
        : session.sinceGoingAway === undefined
          ? undefined
          : session.sinceGoingAway + 1;
    const attempt = Math.max(1, session.attempt);
    let decision = this.#closePolicy(event, {
      attempt,
      sameCodeCount: session.sameCodeCount,
      sinceGoingAway: session.sinceGoingAway,
      backoff: (n) => this.#backoff(n, this.#random()),
      random: this.#random,
    });
    if (decision.action === "reconnect" && !(Number.isFinite(decision.delay) && decision.delay >= 0)) {
      decision = {
        action: "stop",
        reason: `closePolicy returned the invalid delay ${String(decision.delay)}; it must be a finite number >= 0.`,
      };
    }
    if (decision.action === "stop") {
      this.#stop(session, event, decision.reason);
      return;
    }
    if (session.attempt + 1 > this.#maxAttempts) {
      this.#stop(
        session,
        event,
        `Gave up after ${session.attempt} failed attempts in a row (maxAttempts = ${this.#maxAttempts}); the last one ended with ` +
          `${event.code}${event.reason ? ` (${event.reason})` : ""}. Raise maxAttempts, or call connect() again.`,
      );
      return;
    }
    const delay = decision.delay;
    const timer = setTimeout(() => {
      const phase = this.#phase;
      if (phase.kind === "waiting" && phase.timer === timer) this.#retry(phase);
    }, delay);
    this.#setPhase({ kind: "waiting", session, nextRetryAt: Date.now() + Math.ceil(delay), timer });
  }

  #retry(phase: Extract<Phase<M>, { kind: "waiting" }>): void {
    clearTimeout(phase.timer);
    this.#startAttempt(phase.session);
  }

  #stop(session: Session<M>, event: TransportCloseEvent, reason: string): void {
    this.#lastClose = { code: event.code, reason };
    const error = new ReconnectingTransportError("stopped", reason, { closeCode: event.code, cause: event.error });
    this.#logger.warn?.("reconnecting-transport: stopped for good", { code: event.code, reason });
    this.#finish(session, error);
    // `reason` stays what the peer said (core's contract); the advice travels in `error`.
    this.#emitClose({ code: event.code, reason: event.reason, local: false, error });
  }

  /** Enter `closed` and reject everything that waited for a connection. */
  #finish(session: Session<M>, error: Error): void {
    session.removeBrowserListeners();
    const first = session.firstOpen;
    session.firstOpen = undefined;
    this.#setPhase({ kind: "closed" });
    this.#queue?.rejectAll(error);
    first?.reject(error);
  }

  /** Release what `phase` holds; resolves when its inner transport has disconnected. */
  #teardown(phase: Exclude<Phase<M>, { kind: "closed" }>): Promise<void> | undefined {
    if (phase.kind === "waiting") {
      clearTimeout(phase.timer);
      return undefined;
    }
    return this.#releaseConnection(phase);
  }

  #releaseConnection(phase: LivePhase<M>): Promise<void> {
    if (phase.kind === "attempting") {
      clearTimeout(phase.timer);
      phase.held?.rejectAll(
        new ReconnectingTransportError(
          "offline",
          "The connection attempt this send waited for did not open, and the offline queue is off (queue: false): " +
            'send again once status is "open" (onStatus), or turn the queue on.',
        ),
      );
    } else {
      clearTimeout(phase.uptimeTimer);
      phase.heartbeat?.stop();
    }
    phase.unsubscribe();
    let closing: Promise<void>;
    try {
      closing = phase.inner.disconnect();
    } catch (error) {
      closing = Promise.reject(error);
    }
    return closing.catch((error: unknown) => {
      this.#logger.warn?.("reconnecting-transport: the inner transport's disconnect() failed", { error });
    });
  }

  // ------------------------------------------------------------------ state and events

  #setPhase(next: Phase<M>): void {
    const from = this.#phase.kind;
    if (!LEGAL[from].includes(next.kind)) {
      throw new Error(`ReconnectingTransport: illegal transition ${from} -> ${next.kind} (a bug in the wrapper)`);
    }
    this.#phase = next;
    this.#logger.debug?.(`reconnecting-transport: ${from} -> ${next.kind}`);
    this.#publishStatus();
  }

  #computeStatus(): ReconnectingStatus {
    const phase = this.#phase;
    const state: ReconnectingState =
      phase.kind === "closed" ? "closed" : phase.kind === "open" ? "open" : phase.session.firstOpen ? "connecting" : "reconnecting";
    return {
      state,
      attempt: phase.kind === "closed" ? 0 : phase.kind === "waiting" ? phase.session.attempt + 1 : phase.session.attempt,
      nextRetryAt: phase.kind === "waiting" ? phase.nextRetryAt : undefined,
      lastCloseCode: this.#lastClose?.code,
      lastCloseReason: this.#lastClose?.reason,
    };
  }

  #publishStatus(): void {
    const next = this.#computeStatus();
    const prev = this.#status;
    if (
      prev.state === next.state &&
      prev.attempt === next.attempt &&
      prev.nextRetryAt === next.nextRetryAt &&
      prev.lastCloseCode === next.lastCloseCode &&
      prev.lastCloseReason === next.lastCloseReason
    ) {
      return;
    }
    this.#status = next;
    for (const listener of [...this.#statusListeners]) this.#call("onStatus", () => listener(next));
  }

  #emitClose(event: TransportCloseEvent): void {
    for (const listener of [...this.#closeListeners]) this.#call("onClose", () => listener(event));
  }

  // A throwing listener must not leave the wrapper half way through a transition.
  #call(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#logger.error?.(`reconnecting-transport: an ${what} listener threw`, { error });
    }
  }

  // ------------------------------------------------------------------ browsers

  #addBrowserListeners(): () => void {
    const target = globalThis as {
      addEventListener?: (type: string, listener: () => void) => void;
      removeEventListener?: (type: string, listener: () => void) => void;
      document?: {
        visibilityState?: string;
        addEventListener?: (type: string, listener: () => void) => void;
        removeEventListener?: (type: string, listener: () => void) => void;
      };
    };
    if (!this.#browserEvents || typeof target.addEventListener !== "function") return noop;
    const onOnline = (): void => this.#wakeUp("online");
    const doc = target.document;
    const onVisibility = (): void => {
      if (doc?.visibilityState === "visible") this.#wakeUp("visible");
    };
    target.addEventListener("online", onOnline);
    doc?.addEventListener?.("visibilitychange", onVisibility);
    return () => {
      target.removeEventListener?.("online", onOnline);
      doc?.removeEventListener?.("visibilitychange", onVisibility);
    };
  }

  // The network is back or the user looks at the tab again: waiting out the backoff would only
  // leave them staring at "Reconnecting in 20 s", and an open connection may have died unseen.
  #wakeUp(why: string): void {
    const phase = this.#phase;
    this.#logger.debug?.(`reconnecting-transport: ${why}`, { state: phase.kind });
    if (phase.kind === "waiting") this.#retry(phase);
    else if (phase.kind === "open") phase.heartbeat?.probe();
  }
}

function handOver<M>(inner: TransportAdapter<M>, message: M): Promise<void> {
  try {
    return inner.send(message);
  } catch (error) {
    return Promise.reject(error);
  }
}

function atLeast(name: string, value: number, min: number): number {
  return checkNumberOption("ReconnectingTransport", name, value, { min, infinite: true });
}
