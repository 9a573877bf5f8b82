import { OTClient, OTConnection } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { WebSocketTransport, type WebSocketConstructor } from "@open-ot/transport-websocket";
import { makeStamp, nextEdit, wallClock } from "./edit-generator.js";
import type { LoadClient, LoadClientSpec } from "./load-client.js";
import type { LoadMetrics } from "./load-metrics.js";
import { editToTextOp, firstInsert } from "./openot-load-client.js";
import { RevisionWaiters } from "./revision-waiters.js";

/** Which product client a load client is: `OTClient` on its own transport, or a document of an `OTConnection`. */
export type ProductClientKind = "otclient" | "connection";

/** Options of {@link OTClientLoadClient}. */
export interface OTClientLoadClientOptions {
  /** Size the document is kept at, in characters. */
  readonly targetSize: number;
  /** Uniform random numbers in [0, 1) for edit positions. */
  readonly random: () => number;
  /** Opt in to batched frames. @default true */
  readonly batch?: boolean;
  readonly kind: ProductClientKind;
  /** `connection` only: open the document on this shared connection instead of one of its own. */
  readonly sharedConnection?: OTConnection;
  /** The WebSocket class of the transport. @default `ws` (the transport's default in Node) */
  readonly WebSocket?: WebSocketConstructor;
}

/**
 * A load client that is what applications use: `OTClient` (or a document of `OTConnection`)
 * over `WebSocketTransport`, with one op in flight (the next edit is submitted on the ack). The
 * raw client (`openot-load-client.ts`) measures the server; this one what the product's client
 * adds per message. Latencies are taken at the client's events, not at the frame.
 */
export class OTClientLoadClient implements LoadClient {
  readonly docId: string;
  readonly #spec: LoadClientSpec;
  readonly #metrics: LoadMetrics;
  readonly #options: OTClientLoadClientOptions;
  readonly #waiters = new RevisionWaiters();
  #client: OTClient<string, TextOp> | undefined;
  #connection: OTConnection | undefined;
  #sentAt = 0;
  #running = false;
  #nextQueued = false;
  #onIdle: (() => void) | undefined;

  constructor(spec: LoadClientSpec, metrics: LoadMetrics, options: OTClientLoadClientOptions) {
    this.docId = spec.docId;
    this.#spec = spec;
    this.#metrics = metrics;
    this.#options = options;
  }

  get revision(): number {
    return this.#client?.hasDocument === true ? this.#client.revision : -1;
  }

  async connect(): Promise<void> {
    const batch = this.#options.batch ?? true;
    const WebSocket = this.#options.WebSocket;
    const transport = () =>
      new WebSocketTransport(`${this.#spec.url}/ws${batch ? "?batch=1" : ""}`, WebSocket === undefined ? {} : { WebSocket });
    let client: OTClient<string, TextOp>;
    const shared = this.#options.sharedConnection;
    if (shared !== undefined) {
      this.#connection = shared;
      client = await shared.open(this.docId, { type: TextType });
    } else if (this.#options.kind === "connection") {
      this.#connection = new OTConnection({ transport: transport(), batch });
      client = await this.#connection.open(this.docId, { type: TextType });
    } else {
      client = new OTClient<string, TextOp>({ type: TextType, transport: transport(), docId: this.docId, batch });
      await client.connect();
    }
    this.#client = client;
    let last = client.revision;
    const inOrder = (revision: number): void => {
      if (revision !== last + 1) this.#metrics.orderViolation();
      last = revision;
    };
    client.on("snapshot", ({ revision }) => (last = revision));
    // The clock is read once per message, as the raw client does.
    client.on("ack", ({ revision }) => {
      const now = wallClock();
      this.#metrics.received(1, now);
      inOrder(revision);
      this.#metrics.ack(this.#sentAt, now);
      this.#waiters.notify(revision);
      this.#queueNext();
    });
    client.on("remoteOp", ({ op, revision }) => {
      const now = wallClock();
      this.#metrics.received(1, now);
      inOrder(revision);
      this.#metrics.broadcast(firstInsert(op), this.#spec.instance, now);
      this.#waiters.notify(revision);
    });
    client.on("error", (error) => this.#metrics.error(error.code, error.message));
  }

  /**
   * Submit the next op once the frame that brought the ack has been delivered, as the raw
   * client does: the ops committed after the ack in the same batch then reach a client with
   * nothing in flight and need no transform. An editor submits from its own input events,
   * never in the middle of a delivery, so this is also the realistic order.
   */
  #queueNext(): void {
    if (this.#nextQueued) return;
    this.#nextQueued = true;
    queueMicrotask(() => {
      this.#nextQueued = false;
      this.#next();
    });
  }

  #next(): void {
    const client = this.#client;
    if (client === undefined) return;
    if (!this.#running) {
      if (client.synced) {
        this.#onIdle?.();
        this.#onIdle = undefined;
      }
      return;
    }
    if (!client.synced) return;
    const sentAt = wallClock();
    const text = client.snapshot;
    const edit = nextEdit(text.length, this.#options.targetSize, makeStamp(this.#spec.instance, sentAt), this.#options.random);
    this.#sentAt = sentAt;
    client.submit(editToTextOp(edit));
  }

  start(): void {
    this.#running = true;
    this.#next();
  }

  stop(): Promise<void> {
    this.#running = false;
    if (this.#client === undefined || this.#client.synced) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#onIdle = resolve;
    });
  }

  text(): string | undefined {
    return this.#client?.snapshot;
  }

  waitForRevision(revision: number): Promise<void> {
    return this.#waiters.wait(this.revision, revision);
  }

  async close(): Promise<void> {
    if (this.#connection !== undefined) await this.#connection.close();
    else await this.#client?.disconnect();
  }
}
