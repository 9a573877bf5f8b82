import type { WebSocketConstructor } from "@open-ot/transport-websocket";

/** The far end of a {@link ReplaySocket}: what stands in for the server. */
export interface ReplayPeer {
  /** The socket opened (its `open` listeners have run). */
  opened(socket: ReplaySocket): void;
  /** The client sent `text` on the socket. */
  received(text: string): void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

type OpenListener = () => void;
type MessageListener = (text: string) => void;
type CloseListener = (code: number, reason: string) => void;

/**
 * An in-process stand-in for a client's WebSocket, for the client-cost scenario. It has both
 * shapes the load clients use: the WHATWG one that `WebSocketTransport` takes as its
 * `WebSocket` option, and the `on`/`once` one of `ws` that the raw client uses. What the client
 * sends goes to the {@link ReplayPeer}; {@link deliver} hands a frame to the client at once, on
 * the caller's stack, so a replay measures the client's own work and nothing of a network.
 */
export class ReplaySocket {
  readyState = CONNECTING;
  readonly bufferedAmount = 0;
  binaryType: "arraybuffer" | "blob" | "nodebuffer" | "fragments" = "arraybuffer";
  readonly #peer: ReplayPeer;
  readonly #open: OpenListener[] = [];
  readonly #message: MessageListener[] = [];
  readonly #close: CloseListener[] = [];

  constructor(peer: ReplayPeer) {
    this.#peer = peer;
    queueMicrotask(() => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      for (const listener of this.#open) listener();
      this.#peer.opened(this);
    });
  }

  /** A constructor in the WHATWG shape whose sockets talk to `peer`. */
  static for(peer: ReplayPeer): WebSocketConstructor {
    return class extends ReplaySocket {
      constructor() {
        super(peer);
      }
    };
  }

  addEventListener(type: "open" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { readonly code: number; readonly reason: string }) => void): void;
  addEventListener(type: "open" | "error" | "message" | "close", listener: (event: never) => void): void {
    const call = listener as (event?: unknown) => void;
    if (type === "open") this.#open.push(() => call());
    else if (type === "message") this.#message.push((data) => call({ data }));
    else if (type === "close") this.#close.push((code, reason) => call({ code, reason }));
  }

  /** The `ws` shape: `message` listeners get the frame's text. */
  on(type: "open" | "error" | "message" | "close", listener: (arg: never) => void): this {
    const call = listener as (arg?: unknown) => void;
    if (type === "open") this.#open.push(() => call());
    else if (type === "message") this.#message.push((text) => call(text));
    else if (type === "close") this.#close.push((code) => call(code));
    return this;
  }

  once(type: "close", listener: () => void): this {
    let called = false;
    this.#close.push(() => {
      if (called) return;
      called = true;
      listener();
    });
    return this;
  }

  send(text: string): void {
    if (this.readyState !== OPEN) throw new Error("ReplaySocket: send() on a socket that is not open");
    this.#peer.received(text);
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    queueMicrotask(() => {
      for (const listener of this.#close) listener(code, reason);
    });
  }

  terminate(): void {
    this.close(1006, "terminated");
  }

  /** Hand `frame` to the client now. */
  deliver(frame: string): void {
    for (const listener of this.#message) listener(frame);
  }
}
