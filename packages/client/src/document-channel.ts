import type { HandshakeCapable, TransportAdapter, TransportCloseEvent } from "@open-ot/core";

/** A handshake, as a `HandshakeCapable` transport takes it. */
export type ChannelHandshake = (send: (message: unknown) => Promise<void>) => Promise<void> | void;

/** What a {@link DocumentChannel} asks of the connection that carries it. */
export interface ChannelHost {
  attach(channel: DocumentChannel, onReceive: (message: unknown) => void): Promise<void>;
  sendFor(channel: DocumentChannel, message: unknown): Promise<void>;
  detach(channel: DocumentChannel): Promise<void>;
}

/**
 * One document's view of a shared connection, handed to that document's `OTClient` as its
 * transport: `connect` routes the document's messages to the client and opens the shared
 * transport if needed, `send` goes out on it, `disconnect` sends `leave` and stops the routing.
 * So the document logic is one code path, whether a client has a transport of its own or shares one.
 */
export class DocumentChannel implements TransportAdapter {
  /** The receiver of the client's current connection (the client passes a fresh one per `connect`). */
  receiver: ((message: unknown) => void) | undefined;
  /** The document's handshake, run after every reconnection of the shared transport. */
  handshake: ChannelHandshake | undefined;
  readonly #host: ChannelHost;
  readonly #closeListeners = new Set<(event: TransportCloseEvent) => void>();

  constructor(
    readonly docId: string,
    host: ChannelHost,
  ) {
    this.#host = host;
  }

  connect(onReceive: (message: unknown) => void): Promise<void> {
    return this.#host.attach(this, onReceive);
  }

  send(message: unknown): Promise<void> {
    return this.#host.sendFor(this, message);
  }

  disconnect(): Promise<void> {
    return this.#host.detach(this);
  }

  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    this.#closeListeners.add(listener);
    return () => {
      this.#closeListeners.delete(listener);
    };
  }

  /** The shared transport's connection ended. */
  closed(event: TransportCloseEvent): void {
    for (const listener of [...this.#closeListeners]) listener(event);
  }
}

/**
 * The channel of a connection whose transport reconnects by itself: the client's handshake is
 * kept here and run by the connection, with every other document's, after each reconnection.
 */
export class HandshakeChannel extends DocumentChannel implements HandshakeCapable {
  setHandshake(handshake: ChannelHandshake | undefined): void {
    this.handshake = handshake;
  }
}
