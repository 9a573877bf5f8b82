import { CloseCode, type ServerMessage, type TransportAdapter, type TransportCloseEvent } from "@open-ot/core";
import type { Hub } from "./hub.js";
import type { ConnectOptions, HubSession } from "./hub-types.js";

/** Options of {@link createInProcessTransport}: how the hub sees the connection. */
export interface InProcessTransportOptions {
  /** Opt in to batched frames (the transport unwraps them). @default false */
  batch?: boolean;
  /** Join this document on connect, as root-path connections do. @default undefined (join explicitly) */
  autoJoin?: string;
}

/** One connection's plumbing; replaced on every `connect`, so late callbacks of an old one do nothing. */
interface Link {
  readonly session: HubSession;
  readonly onReceive: (message: unknown) => void;
}

/**
 * A {@link TransportAdapter} wired straight to a {@link Hub} in the same process: for tests of
 * the server and the client, and for apps that embed both.
 *
 * Messages are JSON round-tripped in both directions, so nothing is shared by reference and
 * what arrives is what a wire would carry; deliveries are asynchronous and in order.
 *
 * Lifecycle: `idle -> open -> closed -> open ...` (connect again after a close).
 */
export class InProcessTransport implements TransportAdapter {
  private readonly hub: Hub;
  private readonly options: InProcessTransportOptions;
  private readonly closeListeners = new Set<(event: TransportCloseEvent) => void>();
  private state: "idle" | "open" | "closed" = "idle";
  private link: Link | undefined;

  constructor(hub: Hub, options: InProcessTransportOptions = {}) {
    this.hub = hub;
    this.options = options;
  }

  /** The hub session of the current connection (undefined when not open). */
  get session(): HubSession | undefined {
    return this.state === "open" ? this.link?.session : undefined;
  }

  connect(onReceive: (message: unknown) => void): Promise<void> {
    if (this.state === "open") return Promise.reject(new Error("InProcessTransport: already connected; call disconnect() first"));
    const connectOptions: ConnectOptions = {};
    if (this.options.batch !== undefined) connectOptions.batch = this.options.batch;
    if (this.options.autoJoin !== undefined) connectOptions.autoJoin = this.options.autoJoin;
    let link: Link | undefined;
    try {
      const session = this.hub.connect(
        {
          send: (message) => {
            const copy = roundTrip(message) as ServerMessage | ServerMessage[];
            queueMicrotask(() => {
              const current = this.link;
              if (current === undefined || current !== link || this.state !== "open") return;
              for (const m of Array.isArray(copy) ? copy : [copy]) current.onReceive(m);
            });
          },
          close: (code, reason) => {
            queueMicrotask(() => {
              if (this.link === link && this.state === "open") this.end(code, reason, false);
            });
          },
        },
        connectOptions,
      );
      link = { session, onReceive };
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.link = link;
    this.state = "open";
    return Promise.resolve();
  }

  send(message: unknown): Promise<void> {
    const link = this.link;
    if (this.state !== "open" || !link) {
      return Promise.reject(new Error("InProcessTransport: not connected; call connect() first"));
    }
    let copy: unknown;
    try {
      copy = roundTrip(message);
    } catch (error) {
      return Promise.reject(new Error(`InProcessTransport: the message is not JSON-serialisable (${String(error)})`));
    }
    queueMicrotask(() => {
      if (this.link === link && this.state === "open") link.session.receive(copy);
    });
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    if (this.state === "open") this.end(CloseCode.NORMAL, "", true);
    return Promise.resolve();
  }

  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    this.closeListeners.add(listener);
    return () => {
      this.closeListeners.delete(listener);
    };
  }

  /** Test hook: the connection drops with no close frame (code 1006); messages in flight are lost. */
  simulateDrop(): void {
    if (this.state === "open") this.end(CloseCode.ABNORMAL, "connection dropped (simulated)", false);
  }

  private end(code: number, reason: string, local: boolean): void {
    this.state = "closed";
    const link = this.link;
    this.link = undefined;
    link?.session.close();
    const event: TransportCloseEvent = { code, reason, local };
    for (const listener of [...this.closeListeners]) listener(event);
  }
}

/** A {@link TransportAdapter} connected to `hub` in this process. See {@link InProcessTransport}. */
export function createInProcessTransport(hub: Hub, options: InProcessTransportOptions = {}): InProcessTransport {
  return new InProcessTransport(hub, options);
}

function roundTrip(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}
