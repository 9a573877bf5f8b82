import WebSocket from "ws";
import { randomClientId } from "@open-ot/core";
import { editToTextOp } from "./openot-load-client.js";
import { makeStamp, nextEdit, wallClock } from "./edit-generator.js";
import type { LoadClient, LoadClientSpec } from "./load-client.js";
import type { LoadMetrics } from "./load-metrics.js";

/** Options of {@link RelayLoadClient}. */
export interface RelayLoadClientOptions {
  /** Size of the (imaginary) document edits are drawn for, in characters. */
  readonly targetSize: number;
  /** Uniform random numbers in [0, 1) for edit positions. */
  readonly random: () => number;
}

interface Relayed {
  readonly clientId: string;
  readonly seq: number;
  readonly op: { i?: string }[];
}

/**
 * A load client of the raw relay (the fan-out floor): sends the same `op` messages an OpenOT
 * client sends, one in flight; the relay echoes every message to every connection of the
 * document, and the echo of its own message counts as the "ack". It parses every frame, as a
 * real client must, but keeps no document, so there is nothing to converge.
 */
export class RelayLoadClient implements LoadClient {
  readonly docId: string;
  readonly #spec: LoadClientSpec;
  readonly #metrics: LoadMetrics;
  readonly #options: RelayLoadClientOptions;
  readonly #clientId = randomClientId();
  #socket: WebSocket | undefined;
  #seq = 0;
  #inFlight: { seq: number; sentAt: number } | undefined;
  #running = false;
  #onIdle: (() => void) | undefined;
  #received = 0;

  constructor(spec: LoadClientSpec, metrics: LoadMetrics, options: RelayLoadClientOptions) {
    this.docId = spec.docId;
    this.#spec = spec;
    this.#metrics = metrics;
    this.#options = options;
  }

  /** The relay has no revisions: the number of messages received stands in for it. */
  get revision(): number {
    return this.#received;
  }

  connect(): Promise<void> {
    if (this.#socket !== undefined) throw new Error("connect() called twice; create a new client instead");
    const socket = new WebSocket(`${this.#spec.url}/?docId=${encodeURIComponent(this.docId)}`, { perMessageDeflate: false });
    this.#socket = socket;
    socket.on("message", (data: Buffer) => this.#onFrame(data));
    return new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
  }

  #onFrame(data: Buffer): void {
    const m = JSON.parse(data.toString()) as Relayed;
    this.#metrics.frame(1);
    this.#received += 1;
    if (m.clientId === this.#clientId) {
      const done = this.#inFlight;
      if (done === undefined || done.seq !== m.seq) {
        this.#metrics.orderViolation();
        return;
      }
      this.#inFlight = undefined;
      this.#metrics.ack(done.sentAt);
      this.#next();
      return;
    }
    const insert = m.op.find((c) => typeof c.i === "string");
    this.#metrics.broadcast(insert?.i ?? "", this.#spec.instance);
  }

  #next(): void {
    if (!this.#running) {
      if (this.#inFlight === undefined) {
        this.#onIdle?.();
        this.#onIdle = undefined;
      }
      return;
    }
    const sentAt = wallClock();
    const edit = nextEdit(this.#options.targetSize, this.#options.targetSize, makeStamp(this.#spec.instance, sentAt), this.#options.random);
    this.#seq += 1;
    this.#inFlight = { seq: this.#seq, sentAt };
    this.#socket?.send(
      JSON.stringify({ type: "op", docId: this.docId, clientId: this.#clientId, revision: 0, seq: this.#seq, op: editToTextOp(edit) }),
    );
  }

  start(): void {
    this.#running = true;
    if (this.#inFlight === undefined) this.#next();
  }

  stop(): Promise<void> {
    this.#running = false;
    if (this.#inFlight === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#onIdle = resolve;
    });
  }

  text(): undefined {
    return undefined;
  }

  waitForRevision(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#running = false;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.close(1000, "bench done");
    });
  }
}
