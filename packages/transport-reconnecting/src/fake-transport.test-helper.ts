// A scripted inner transport for the unit tests: the test opens, refuses and drops it by hand
// and sees everything the wrapper sends. Excluded from the build.
import type { TransportAdapter, TransportCloseEvent } from "@open-ot/core";

type FakeState = "new" | "connecting" | "open" | "closed";

export interface FakeOptions {
  /** Resolve `connect()` on the next microtask instead of waiting for `open()`. */
  autoOpen?: boolean;
  /** Answer every `{type: "ping", t}` sent with `{type: "pong", t}` on the next microtask. */
  answerPings?: boolean;
  /** Called with each message handed over, before `send()` returns (a server answering at once). */
  onSend?: (fake: FakeTransport, message: unknown) => void;
}

export class FakeTransport implements TransportAdapter {
  state: FakeState = "new";
  readonly sent: unknown[] = [];
  disconnectCalls = 0;
  failSends: Error | undefined;
  #onReceive: ((message: unknown) => void) | undefined;
  #settle: { resolve(): void; reject(error: unknown): void } | undefined;
  readonly #closeListeners = new Set<(event: TransportCloseEvent) => void>();

  constructor(readonly options: FakeOptions = {}) {}

  connect(onReceive: (message: unknown) => void): Promise<void> {
    this.state = "connecting";
    this.#onReceive = onReceive;
    return new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
      if (this.options.autoOpen) queueMicrotask(() => this.open());
    });
  }

  send(message: unknown): Promise<void> {
    if (this.state !== "open") return Promise.reject(new Error(`fake: send while ${this.state}`));
    if (this.failSends) return Promise.reject(this.failSends);
    this.sent.push(message);
    this.options.onSend?.(this, message);
    const m = message as { type?: unknown; t?: unknown };
    if (this.options.answerPings && m.type === "ping") {
      queueMicrotask(() => this.deliver({ type: "pong", t: m.t }));
    }
    return Promise.resolve();
  }

  async disconnect(): Promise<void> {
    this.disconnectCalls += 1;
    if (this.state === "closed") return;
    this.state = "closed";
    this.#settle?.reject(new Error("fake: disconnected while connecting"));
    this.#settle = undefined;
  }

  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    this.#closeListeners.add(listener);
    return () => {
      this.#closeListeners.delete(listener);
    };
  }

  get closeListenerCount(): number {
    return this.#closeListeners.size;
  }

  /** Let `connect()` resolve. */
  open(): void {
    if (this.state !== "connecting") return;
    this.state = "open";
    this.#settle?.resolve();
    this.#settle = undefined;
  }

  /** Let `connect()` reject. */
  refuse(error: unknown): void {
    this.state = "closed";
    this.#settle?.reject(error);
    this.#settle = undefined;
  }

  /** Deliver a message, whatever the state (a stale transport may still talk). */
  deliver(message: unknown): void {
    this.#onReceive?.(message);
  }

  /** The server closes (or the network drops) the connection. */
  drop(code: number, reason = ""): void {
    this.state = "closed";
    for (const listener of [...this.#closeListeners]) listener({ code, reason, local: false });
  }

  /** Report a close even when already replaced (for the epoch guard). */
  emitClose(code: number, reason = ""): void {
    for (const listener of [...this.#closeListeners]) listener({ code, reason, local: false });
  }
}

/** Hands out a new FakeTransport per attempt and keeps them all. */
export class FakeNetwork {
  readonly transports: FakeTransport[] = [];
  /** Given to the transports created from now on (see {@link FakeOptions.onSend}). */
  onSend: FakeOptions["onSend"];
  constructor(readonly options: FakeOptions = {}) {}

  readonly factory = (): FakeTransport => {
    const transport = new FakeTransport({ ...this.options, ...(this.onSend ? { onSend: this.onSend } : {}) });
    this.transports.push(transport);
    return transport;
  };

  get last(): FakeTransport {
    const last = this.transports.at(-1);
    if (!last) throw new Error("fake: no transport created yet");
    return last;
  }
}
