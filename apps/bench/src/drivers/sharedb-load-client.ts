import WebSocket from "ws";
import { loadShareDbClient, type ShareDbConnection, type ShareDbDoc, type UnicodeTextOp } from "../reference/sharedb-modules.js";
import { makeStamp, nextEdit, wallClock, type Edit } from "./edit-generator.js";
import type { LoadClient, LoadClientSpec } from "./load-client.js";
import { RevisionWaiters } from "./revision-waiters.js";
import type { LoadMetrics } from "./load-metrics.js";

/** The collection every ShareDB document of the bench lives in. */
export const SHAREDB_COLLECTION = "bench";

/** Options of {@link ShareDbLoadClient}. */
export interface ShareDbLoadClientOptions {
  /** Size the document is kept at, in characters. */
  readonly targetSize: number;
  /** Uniform random numbers in [0, 1) for edit positions. */
  readonly random: () => number;
}

/** Convert an {@link Edit} to an ot-text-unicode op (ASCII text, so code points equal code units). */
export function editToUnicodeOp(edit: Edit): UnicodeTextOp {
  const op: UnicodeTextOp = [];
  if (edit.position > 0) op.push(edit.position);
  if (edit.deleteCount > 0) op.push({ d: edit.deleteCount });
  op.push(edit.text);
  return op;
}

function firstInsert(op: UnicodeTextOp): string {
  for (const c of op) if (typeof c === "string") return c;
  return "";
}

const LOCAL = { source: "bench" };

/**
 * A load client of the ShareDB reference: ShareDB's own client (`sharedb/lib/client`) over a
 * `ws` socket, one op in flight (the next `submitOp` only in the callback of the previous one),
 * ShareDB's client doing transform and apply.
 */
export class ShareDbLoadClient implements LoadClient {
  readonly docId: string;
  readonly #spec: LoadClientSpec;
  readonly #metrics: LoadMetrics;
  readonly #options: ShareDbLoadClientOptions;
  readonly #waiters = new RevisionWaiters();
  #socket: WebSocket | undefined;
  #connection: ShareDbConnection | undefined;
  #doc: ShareDbDoc | undefined;
  #running = false;
  #inFlight = false;
  #onIdle: (() => void) | undefined;

  constructor(spec: LoadClientSpec, metrics: LoadMetrics, options: ShareDbLoadClientOptions) {
    this.docId = spec.docId;
    this.#spec = spec;
    this.#metrics = metrics;
    this.#options = options;
  }

  get revision(): number {
    return this.#doc?.version ?? -1;
  }

  connect(): Promise<void> {
    if (this.#socket !== undefined) throw new Error("connect() called twice; create a new client instead");
    const { Connection } = loadShareDbClient();
    const socket = new WebSocket(this.#spec.url, { perMessageDeflate: false });
    this.#socket = socket;
    // Counted beside ShareDB's own handler (it sets socket.onmessage), which parses the frame.
    socket.on("message", () => this.#metrics.frame(1));
    const connection = new Connection(socket);
    this.#connection = connection;
    const doc = connection.get(SHAREDB_COLLECTION, this.docId);
    this.#doc = doc;
    doc.on("error", (error) => this.#metrics.error(`sharedb:${error.message}`));
    doc.on("op", (op, source) => {
      if (source === LOCAL.source) return;
      this.#metrics.broadcast(firstInsert(op), this.#spec.instance);
      this.#waiters.notify(this.revision);
    });
    return new Promise<void>((resolve, reject) => {
      doc.subscribe((error) => {
        if (error !== undefined && error !== null) reject(error);
        else if (doc.type === null || doc.type === undefined)
          reject(new Error(`ShareDB document ${this.docId} does not exist; create it first`));
        else resolve();
      });
    });
  }

  #next(): void {
    const doc = this.#doc;
    if (!this.#running || doc === undefined) {
      if (!this.#inFlight) {
        this.#onIdle?.();
        this.#onIdle = undefined;
      }
      return;
    }
    const sentAt = wallClock();
    const text = doc.data as string;
    const edit = nextEdit(text.length, this.#options.targetSize, makeStamp(this.#spec.instance, sentAt), this.#options.random);
    this.#inFlight = true;
    doc.submitOp(editToUnicodeOp(edit), LOCAL, (error) => {
      this.#inFlight = false;
      if (error !== undefined && error !== null) this.#metrics.error(`sharedb:${error.message}`);
      else this.#metrics.ack(sentAt);
      this.#waiters.notify(this.revision);
      this.#next();
    });
  }

  start(): void {
    this.#running = true;
    if (!this.#inFlight) this.#next();
  }

  stop(): Promise<void> {
    this.#running = false;
    if (!this.#inFlight) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#onIdle = resolve;
    });
  }

  text(): string | undefined {
    return this.#doc?.data as string | undefined;
  }

  waitForRevision(revision: number): Promise<void> {
    return this.#waiters.wait(this.revision, revision);
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#running = false;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      this.#connection?.close();
    });
  }
}
