// Transports over the reference server for the convergence simulation. Nothing moves by itself:
// the simulation decides when the server handles a message and when the client receives one.
import type { HandshakeCapable, TransportAdapter, TransportCloseEvent } from "@open-ot/core";
import type { ReferenceServer, ServerConnection } from "./reference-server.js";

type Receiver = (message: unknown) => void;

/** A plain transport: a drop is reported through onClose and the client calls connect() again. */
export class SimTransport implements TransportAdapter {
  connection: ServerConnection | undefined;
  protected receiver: Receiver | undefined;
  readonly #closeListeners = new Set<(event: TransportCloseEvent) => void>();

  constructor(protected readonly server: ReferenceServer) {}

  get isOpen(): boolean {
    return this.connection?.open === true;
  }

  async connect(onReceive: Receiver): Promise<void> {
    this.receiver = onReceive;
    this.connection = this.server.connect();
  }

  async send(message: unknown): Promise<void> {
    if (!this.isOpen) throw new Error("SimTransport: not open");
    this.connection!.toServer.push(JSON.parse(JSON.stringify(message)));
  }

  async disconnect(): Promise<void> {
    if (this.connection === undefined) return;
    this.server.close(this.connection);
    this.connection = undefined;
    this.fireClose({ code: 1000, reason: "", local: true });
  }

  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Hand the client its oldest undelivered message; false when there is none. */
  deliverOne(): boolean {
    const message = this.connection?.toClient.shift();
    if (message === undefined) return false;
    this.receiver?.(message);
    return true;
  }

  /**
   * Lose one `ack`/`op` on its way to the client, breaking the protocol's order guarantee the
   * way a lost pub/sub message would if nothing filled the gap. Only one that a later `ack`/`op`
   * follows, so that the client can notice. False when there is none.
   */
  loseOneDelivery(random: () => number): boolean {
    const queue = this.connection?.toClient ?? [];
    const isDelivery = (m: unknown): boolean => {
      const type = (m as { type?: unknown }).type;
      return type === "ack" || type === "op";
    };
    const candidates: number[] = [];
    let laterDelivery = false;
    for (let i = queue.length - 1; i >= 0; i--) {
      if (!isDelivery(queue[i])) continue;
      if (laterDelivery) candidates.push(i);
      laterDelivery = true;
    }
    if (candidates.length === 0) return false;
    queue.splice(candidates[Math.floor(random() * candidates.length)]!, 1);
    return true;
  }

  /**
   * The connection breaks: the server still handles the first `arrived` messages the client
   * had sent (they were on the wire), the rest and everything not yet delivered are lost.
   */
  breakConnection(arrived: number): void {
    const connection = this.connection;
    if (connection === undefined) return;
    for (let i = 0; i < arrived; i++) this.server.processOne(connection);
    this.server.close(connection);
    this.connection = undefined;
    this.onBroken();
  }

  protected onBroken(): void {
    this.fireClose({ code: 1006, reason: "", local: false });
  }

  protected fireClose(event: TransportCloseEvent): void {
    for (const listener of [...this.#closeListeners]) listener(event);
  }
}

type Handshake = (send: (message: unknown) => Promise<void>) => Promise<void> | void;

/**
 * A reconnecting transport (like the wrapper): drops are silent, `reconnect()` opens a new
 * connection and runs the handshake, then sends what was queued while down (when `queue` is on;
 * with it off, sends while down reject).
 */
export class SimReconnectingTransport extends SimTransport implements HandshakeCapable {
  #handshake: Handshake | undefined;
  readonly #queued: unknown[] = [];

  constructor(
    server: ReferenceServer,
    readonly queue: boolean,
  ) {
    super(server);
  }

  setHandshake(handshake: Handshake | undefined): void {
    this.#handshake = handshake;
  }

  #connected: (() => void) | undefined;

  /** Like the wrapper, resolves only once a connection is up and its handshake has run. */
  override async connect(onReceive: Receiver): Promise<void> {
    const up = new Promise<void>((resolve) => (this.#connected = resolve));
    await super.connect(onReceive);
    await this.#runHandshake();
    await up;
  }

  override async send(message: unknown): Promise<void> {
    if (!this.isOpen && this.queue && this.receiver !== undefined) {
      this.#queued.push(JSON.parse(JSON.stringify(message)));
      return;
    }
    await super.send(message);
  }

  override async disconnect(): Promise<void> {
    this.#queued.length = 0;
    this.receiver = undefined;
    await super.disconnect();
  }

  /** Down and waiting to reconnect. */
  get isDown(): boolean {
    return this.receiver !== undefined && !this.isOpen;
  }

  async reconnect(): Promise<void> {
    this.connection = this.server.connect();
    await this.#runHandshake();
  }

  protected override onBroken(): void {
    // Silent: the wrapper reports only a final stop through onClose.
  }

  /** Handshake, then the queue; if the connection breaks meanwhile, wait for `reconnect()`. */
  async #runHandshake(): Promise<void> {
    const connection = this.connection;
    if (connection === undefined) return;
    try {
      await this.#handshake?.(async (message) => {
        if (!connection.open) throw new Error("SimReconnectingTransport: handshake on a closed connection");
        connection.toServer.push(JSON.parse(JSON.stringify(message)));
      });
    } catch {
      return; // a failed handshake is a failed attempt: stay down
    }
    if (!connection.open) return;
    for (const message of this.#queued.splice(0)) connection.toServer.push(message);
    this.#connected?.();
    this.#connected = undefined;
  }
}
