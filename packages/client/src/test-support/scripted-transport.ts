// Test-only transports the tests drive by hand: they record what the client sends and let the
// test deliver server messages, drop the connection, or make sends fail. Not part of the build.
import type { HandshakeCapable, TransportAdapter, TransportCloseEvent } from "@open-ot/core";

type Receiver = (message: unknown) => void;
type CloseListener = (event: TransportCloseEvent) => void;

/** Messages are copied as JSON, as a wire would, so nobody shares objects with the client. */
function wire<T>(message: T): T {
  return JSON.parse(JSON.stringify(message)) as T;
}

/** A scripted plain transport (no handshake): the client must call `connect()` after a drop. */
export class ScriptedTransport implements TransportAdapter {
  /** Everything the client sent, oldest first. */
  readonly sent: unknown[] = [];
  /** Number of `connect` calls. */
  connects = 0;
  /** When set, the next `connect` rejects with it. */
  connectError: Error | undefined;
  /** When set, every `send` rejects with it. */
  sendError: Error | undefined;
  protected receiver: Receiver | undefined;
  readonly #closeListeners = new Set<CloseListener>();

  get isOpen(): boolean {
    return this.receiver !== undefined;
  }

  async connect(onReceive: Receiver): Promise<void> {
    this.connects++;
    if (this.connectError !== undefined) {
      const error = this.connectError;
      this.connectError = undefined;
      throw error;
    }
    this.receiver = onReceive;
  }

  async send(message: unknown): Promise<void> {
    if (this.sendError !== undefined) throw this.sendError;
    if (this.receiver === undefined) throw new Error("ScriptedTransport: send while not connected");
    this.sent.push(wire(message));
  }

  async disconnect(): Promise<void> {
    if (this.receiver === undefined) return;
    this.receiver = undefined;
    this.fireClose({ code: 1000, reason: "", local: true });
  }

  onClose(listener: CloseListener): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Deliver one server message to the client. */
  deliver(message: unknown): void {
    if (this.receiver === undefined) throw new Error("ScriptedTransport: deliver while not connected");
    this.receiver(wire(message));
  }

  /** The connection drops (no close frame unless `code` says otherwise). */
  drop(code = 1006, reason = ""): void {
    this.receiver = undefined;
    this.fireClose({ code, reason, local: false });
  }

  /** Return and forget what was sent so far. */
  take(): unknown[] {
    return this.sent.splice(0, this.sent.length);
  }

  protected fireClose(event: TransportCloseEvent): void {
    for (const listener of [...this.#closeListeners]) listener(event);
  }
}

type Handshake = (send: (message: unknown) => Promise<void>) => Promise<void> | void;

/**
 * A scripted reconnecting transport: runs the handshake on connect and on every `reconnect()`,
 * as the reconnecting wrapper does, and never reports inner drops through onClose.
 */
export class ScriptedHandshakeTransport extends ScriptedTransport implements HandshakeCapable {
  handshake: Handshake | undefined;
  /** Number of handshakes run. */
  handshakes = 0;

  setHandshake(handshake: Handshake | undefined): void {
    this.handshake = handshake;
  }

  override async connect(onReceive: Receiver): Promise<void> {
    await super.connect(onReceive);
    await this.runHandshake();
  }

  #lost: Receiver | undefined;

  /** A silent inner drop: messages in flight are lost, nothing is reported. */
  lose(): void {
    this.#lost = this.receiver;
    this.receiver = undefined;
  }

  /** A new inner connection after `lose()`: the handshake runs again. */
  async reconnect(): Promise<void> {
    if (this.#lost === undefined) throw new Error("ScriptedHandshakeTransport: reconnect() without lose()");
    this.receiver = this.#lost;
    this.#lost = undefined;
    await this.runHandshake();
  }

  private async runHandshake(): Promise<void> {
    if (this.handshake === undefined) return;
    this.handshakes++;
    await this.handshake(async (message) => {
      this.sent.push(wire(message));
    });
  }
}
