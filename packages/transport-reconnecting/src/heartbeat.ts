/**
 * Application-level heartbeat on one connection: a `{type: "ping", t}` every `interval`
 * milliseconds, and a verdict of "dead" when its `pong` does not come back within `timeout`.
 *
 * It exists for the half-open connection: a cable pulled or a NAT entry dropped leaves a socket
 * that neither errors nor closes, and a browser cannot send WebSocket ping frames. Only a round
 * trip the application waits for notices it.
 */
import type { PingMessage } from "@open-ot/core";

/** Heartbeat timing. */
export interface HeartbeatOptions {
  /** Milliseconds between a pong (or the connection opening) and the next ping. @default 25000 */
  interval?: number;
  /** Milliseconds to wait for the pong before the connection counts as dead. @default 10000 */
  timeout?: number;
}

/** The defaults of {@link HeartbeatOptions}. */
export const DEFAULT_HEARTBEAT: Readonly<Required<HeartbeatOptions>> = {
  interval: 25_000,
  timeout: 10_000,
};

// stopped <- idle (waiting `interval`) <-> awaiting (a ping out, waiting `timeout` for its pong)
//   start(): stopped -> idle;  ping: idle -> awaiting;  pong: awaiting -> idle;
//   timeout or failed send: awaiting -> stopped (onDead);  stop(): any -> stopped
type HeartbeatState =
  | { readonly kind: "stopped" }
  | { readonly kind: "idle"; readonly timer: ReturnType<typeof setTimeout> }
  | { readonly kind: "awaiting"; readonly t: string; readonly timer: ReturnType<typeof setTimeout> };

/** Callbacks that tie a {@link Heartbeat} to one connection. */
export interface HeartbeatHooks {
  /** Send the ping on the connection; a rejection counts as a dead connection. */
  sendPing(ping: PingMessage): Promise<void>;
  /** The connection is dead; called at most once, after which the heartbeat is stopped. */
  onDead(reason: string, error?: Error): void;
}

/**
 * One connection's heartbeat. Ping ids (`t`) are `prefix` plus a counter, so that the owner can
 * recognise its own pongs, late ones included, and keep them from the application.
 */
export class Heartbeat {
  readonly #interval: number;
  readonly #timeout: number;
  readonly #prefix: string;
  readonly #hooks: HeartbeatHooks;
  #state: HeartbeatState = { kind: "stopped" };
  #counter = 0;

  constructor(options: Required<HeartbeatOptions>, prefix: string, hooks: HeartbeatHooks) {
    this.#interval = options.interval;
    this.#timeout = options.timeout;
    this.#prefix = prefix;
    this.#hooks = hooks;
  }

  /** Start: the first ping goes out after `interval`. */
  start(): void {
    if (this.#state.kind !== "stopped") return;
    this.#idle();
  }

  /** Ping now, unless a ping is already waiting for its pong (used when a tab becomes visible). */
  probe(): void {
    if (this.#state.kind !== "idle") return;
    clearTimeout(this.#state.timer);
    this.#ping();
  }

  /** Feed a pong's `t`; an answer to the ping in flight proves the connection alive. */
  pong(t: string): void {
    if (this.#state.kind === "awaiting" && this.#state.t === t) {
      clearTimeout(this.#state.timer);
      this.#idle();
    }
  }

  /** Stop all timers; nothing is sent or reported afterwards. */
  stop(): void {
    if (this.#state.kind !== "stopped") clearTimeout(this.#state.timer);
    this.#setState({ kind: "stopped" });
  }

  #idle(): void {
    this.#setState({ kind: "idle", timer: setTimeout(() => this.#ping(), this.#interval) });
  }

  #ping(): void {
    this.#counter += 1;
    const t = `${this.#prefix}${this.#counter}`;
    const timer = setTimeout(
      () => this.#dead(`no pong within ${this.#timeout} ms of a heartbeat ping (heartbeat.timeout): the connection is dead or half-open`),
      this.#timeout,
    );
    this.#setState({ kind: "awaiting", t, timer });
    let sent: Promise<void>;
    try {
      sent = this.#hooks.sendPing({ type: "ping", t });
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.catch((error: unknown) => {
      // Only the ping still in flight may condemn the connection; a stopped heartbeat stays quiet.
      if (this.#state.kind === "awaiting" && this.#state.t === t) {
        const err = error instanceof Error ? error : new Error(String(error));
        this.#dead(`the heartbeat ping could not be sent: ${err.message}`, err);
      }
    });
  }

  #dead(reason: string, error?: Error): void {
    this.stop();
    this.#hooks.onDead(reason, error);
  }

  #setState(next: HeartbeatState): void {
    this.#state = next;
  }
}
