/**
 * Messages sent while the connection is down, kept in order and bounded, until the next
 * connection has finished its handshake.
 */
import { checkNumberOption } from "@open-ot/core";
import { ReconnectingTransportError } from "./reconnecting-transport-error.js";

/** Bounds of the offline queue. */
export interface OfflineQueueOptions {
  /** Most messages kept; one more rejects that send with `queue_full`. @default 1000 */
  maxMessages?: number;
  /** Most bytes kept (as measured by `measure`); a send that would pass it rejects with `queue_full`. @default 1048576 (1 MiB) */
  maxBytes?: number;
  /** Size of one message in bytes. @default the UTF-8 length of its JSON text */
  measure?: (message: unknown) => number;
}

/** The defaults of {@link OfflineQueueOptions} (`measure` aside). */
export const DEFAULT_OFFLINE_QUEUE = {
  maxMessages: 1000,
  maxBytes: 1024 * 1024,
} as const;

interface Entry<M> {
  readonly message: M;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const encoder = new TextEncoder();

/** The UTF-8 length of `message`'s JSON text: what a JSON transport puts on the wire. */
export function jsonByteLength(message: unknown): number {
  return encoder.encode(JSON.stringify(message) ?? "").byteLength;
}

/**
 * A bounded FIFO of pending sends. Each `enqueue` returns the promise its caller gets from
 * `send()`; it settles when `flush` hands the message to a connection (with the outcome of that
 * hand-over) or when `rejectAll` empties the queue.
 */
export class OfflineQueue<M> {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #measure: (message: unknown) => number;
  #entries: Entry<M>[] = [];
  #bytes = 0;

  constructor(options: OfflineQueueOptions = {}) {
    this.#maxMessages = positive("queue.maxMessages", options.maxMessages ?? DEFAULT_OFFLINE_QUEUE.maxMessages);
    this.#maxBytes = positive("queue.maxBytes", options.maxBytes ?? DEFAULT_OFFLINE_QUEUE.maxBytes);
    this.#measure = options.measure ?? jsonByteLength;
  }

  /** Messages waiting. */
  get length(): number {
    return this.#entries.length;
  }

  /** Bytes waiting, as measured. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keep `message` for the next connection. Rejects at once with `queue_full` when it does not
   * fit; the messages already queued stay.
   */
  enqueue(message: M): Promise<void> {
    let bytes: number;
    try {
      bytes = this.#measure(message);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#entries.length + 1 > this.#maxMessages) {
      return Promise.reject(
        new ReconnectingTransportError(
          "queue_full",
          `The offline queue already holds ${this.#entries.length} messages (queue.maxMessages = ${this.#maxMessages}); ` +
            `this send was refused while reconnecting. Raise queue.maxMessages or send less while offline (watch onStatus).`,
        ),
      );
    }
    if (this.#bytes + bytes > this.#maxBytes) {
      return Promise.reject(
        new ReconnectingTransportError(
          "queue_full",
          `The offline queue holds ${this.#bytes} bytes and this message has ${bytes} (queue.maxBytes = ${this.#maxBytes}); ` +
            `this send was refused while reconnecting. Raise queue.maxBytes or send less while offline (watch onStatus).`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#entries.push({ message, bytes, resolve, reject });
      this.#bytes += bytes;
    });
  }

  /**
   * Hand every queued message to `send`, in order, synchronously (so nothing sent afterwards
   * can overtake them), and empty the queue. Each queued promise settles as its `send` does.
   */
  flush(send: (message: M) => Promise<void>): void {
    const entries = this.#take();
    for (const entry of entries) {
      let handedOver: Promise<void>;
      try {
        handedOver = send(entry.message);
      } catch (error) {
        handedOver = Promise.reject(error);
      }
      handedOver.then(entry.resolve, entry.reject);
    }
  }

  /** Reject every queued send with `error` and empty the queue. */
  rejectAll(error: Error): void {
    for (const entry of this.#take()) entry.reject(error);
  }

  #take(): Entry<M>[] {
    const entries = this.#entries;
    this.#entries = [];
    this.#bytes = 0;
    return entries;
  }
}

function positive(name: string, value: number): number {
  return checkNumberOption("ReconnectingTransport", name, value, { min: 0, aboveMin: true, infinite: true });
}
