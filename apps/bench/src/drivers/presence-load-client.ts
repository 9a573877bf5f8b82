import WebSocket from "ws";
import { randomClientId } from "@open-ot/core";
import type { LoadClient, LoadClientSpec } from "./load-client.js";
import type { LoadMetrics } from "./load-metrics.js";

/** Options of {@link PresenceLoadClient}. */
export interface PresenceLoadClientOptions {
  /** Caret moves per second; 0: joined with presence, never moving. */
  readonly hz: number;
  /** Carets go at random positions below this (the document is kept at least this long). */
  readonly maxPosition: number;
  /** Uniform random numbers in [0, 1). */
  readonly random: () => number;
}

type Incoming =
  | { type: "snapshot" | "joined" | "op" | "ack"; revision: number }
  | { type: "presence"; peers: unknown[]; full?: boolean }
  | { type: "error"; code: string; message: string };

/**
 * A person who has the document open and moves their caret: the wire protocol over `ws`,
 * joined with `"presence": true`, sending `presence` with a caret at the revision it last saw,
 * `hz` times a second (docs/protocol.md, "Presence"). It edits nothing and keeps no text; it
 * counts the presence it sends and the presence messages and entries it receives.
 */
export class PresenceLoadClient implements LoadClient {
  readonly docId: string;
  readonly #spec: LoadClientSpec;
  readonly #metrics: LoadMetrics;
  readonly #options: PresenceLoadClientOptions;
  #socket: WebSocket | undefined;
  #revision = -1;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(spec: LoadClientSpec, metrics: LoadMetrics, options: PresenceLoadClientOptions) {
    this.docId = spec.docId;
    this.#spec = spec;
    this.#metrics = metrics;
    this.#options = options;
  }

  get revision(): number {
    return this.#revision;
  }

  connect(): Promise<void> {
    const socket = new WebSocket(`${this.#spec.url}/ws?batch=1`, { perMessageDeflate: false });
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      socket.on("open", () =>
        socket.send(JSON.stringify({ type: "join", docId: this.docId, clientId: randomClientId(), batch: true, presence: true })),
      );
      socket.on("message", (data: Buffer) => {
        const parsed = JSON.parse(data.toString()) as Incoming | Incoming[];
        const messages = Array.isArray(parsed) ? parsed : [parsed];
        this.#metrics.frame(messages.length);
        for (const message of messages) {
          if (message.type === "presence") {
            this.#metrics.presenceReceived(message.peers.length);
            // The full set comes after the join's snapshot: the server takes our presence now.
            if (message.full === true) resolve();
          } else if (message.type === "error") {
            this.#metrics.error(message.code, message.message);
          } else {
            this.#revision = Math.max(this.#revision, message.revision);
          }
        }
      });
      socket.on("error", (error: Error) => reject(error));
      socket.on("close", (code: number) => reject(new Error(`closed with ${code} before presence arrived`)));
    });
  }

  start(): void {
    if (this.#options.hz <= 0) return;
    this.#timer = setInterval(() => {
      const at = Math.floor(this.#options.random() * this.#options.maxPosition);
      const state = { label: `person-${this.#spec.index}`, color: "#36c", revision: this.#revision, ranges: [{ anchor: at, head: at }] };
      this.#socket?.send(JSON.stringify({ type: "presence", docId: this.docId, state }));
      this.#metrics.presenceSent();
    }, 1000 / this.#options.hz);
  }

  stop(): Promise<void> {
    clearInterval(this.#timer);
    return Promise.resolve();
  }

  text(): undefined {
    return undefined;
  }

  waitForRevision(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    this.#socket?.close();
    return Promise.resolve();
  }
}
