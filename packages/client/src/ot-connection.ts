import {
  isHandshakeCapable,
  isValidClientId,
  isValidDocId,
  randomClientId,
  type Logger,
  type OTType,
  type TransportAdapter,
  type TransportCloseEvent,
} from "@open-ot/core";
import { DocumentChannel, HandshakeChannel, type ChannelHost } from "./document-channel.js";
import { OTClient } from "./ot-client.js";
import type { OpenDocumentOptions, OTConnectionOptions } from "./ot-connection-options.js";
import type { RetryOptions } from "./retry-delay.js";
import { SeqCounter } from "./seq-counter.js";

/**
 * Where the shared transport is, as the connection object sees it:
 *
 * ```
 * offline --a document connects, connect()--> connecting --transport open--> open
 * connecting --the transport could not connect--> offline
 * open --the transport's connection ended (a reconnecting one: it gave up)--> offline
 * offline | connecting | open --close()--> closed
 * ```
 */
export type OTConnectionState = "offline" | "connecting" | "open" | "closed";

/** The lifecycle, each state with what it holds; changed only in `#setPhase`, which checks {@link LEGAL}. */
type Phase =
  | { readonly kind: "offline" | "closed" }
  | { readonly kind: "connecting"; readonly epoch: number; readonly connected: Promise<void> }
  | { readonly kind: "open"; readonly epoch: number };

const LEGAL: Readonly<Record<OTConnectionState, readonly OTConnectionState[]>> = {
  offline: ["connecting", "closed"],
  connecting: ["open", "offline", "closed"],
  open: ["offline", "closed"],
  closed: [],
};

/** An open document: its client, the type it was opened with, and its channel. */
interface OpenDocument {
  readonly client: OTClient<unknown, unknown>;
  readonly type: OTType<unknown, unknown>;
  readonly channel: DocumentChannel;
}

const noop = (): void => undefined;

/** Recent op `seq`s whose document is remembered. */
const SEQ_OWNERS_KEPT = 1024;

/**
 * One connection to the server for many documents: it owns one transport and one `clientId`
 * (one `seq` sequence across its documents), opens documents by id and routes each incoming
 * message to its document by `docId`. Each document is an {@link OTClient}, with all of its API
 * and events; `new OTClient({ transport, docId })` is the same thing with one document.
 *
 * ```ts
 * const connection = new OTConnection({ transport: new ReconnectingTransport(() => new WebSocketTransport(url)) });
 * const notes = await connection.open("notes", { type: TextType });
 * const todo = await connection.open("todo", { type: TextType });
 * notes.submit([{ i: "hello" }]);
 * await todo.disconnect(); // sends leave; the other documents carry on
 * await connection.close(); // closes every document and the transport
 * ```
 *
 * After every reconnection of a reconnecting transport, one handshake rejoins every open
 * document (all joins sent at once, each with its document's revision); each document then
 * resends its own op in flight when its answer arrives. Over a transport that does not reconnect
 * by itself, the documents go `offline` when it drops, and {@link connect} (or opening a
 * document) reconnects it and rejoins them all. (Why it is built this way:
 * docs/decisions/033-one-connection-many-documents.md.)
 */
export class OTConnection {
  /** The identity every document's client uses. */
  readonly clientId: string;

  readonly #transport: TransportAdapter;
  readonly #seqs: SeqCounter;
  readonly #batch: boolean | undefined;
  readonly #retry: RetryOptions | undefined;
  readonly #logger: Logger | undefined;
  #phase: Phase = { kind: "offline" };
  /**
   * Counts transport connections opened by this object; a receiver of an older one is ignored
   * (ioredis's `connectionEpoch`, issue #2099).
   */
  #epoch = 0;
  /** Open documents by id, connected or not. */
  readonly #documents = new Map<string, OpenDocument>();
  /** Channels that receive their document's messages (their client connected), by document id. */
  readonly #routes = new Map<string, DocumentChannel>();
  /**
   * `leave`s not yet handed to the transport, by document id: a document opened again waits for
   * its leave, or a leave still in a reconnecting transport's queue would follow the new join.
   */
  readonly #leaving = new Map<string, Promise<void>>();
  /** Every document ever opened here, by channel, so that a client closed by `disconnect()` can connect again. */
  readonly #byChannel = new WeakMap<DocumentChannel, OpenDocument>();
  /** Which document sent the op of each recent `seq`, to route an error that names no document. */
  readonly #seqOwners = new Map<number, string>();
  readonly #unwatchClose: () => void;

  readonly #host: ChannelHost = {
    attach: (channel, onReceive) => this.#attach(channel, onReceive),
    sendFor: (channel, message) => this.#sendFor(channel, message),
    detach: (channel) => this.#detach(channel),
  };

  constructor(options: OTConnectionOptions) {
    const { transport } = options;
    if (
      transport === null ||
      typeof transport !== "object" ||
      typeof transport.connect !== "function" ||
      typeof transport.send !== "function" ||
      typeof transport.disconnect !== "function"
    ) {
      throw new TypeError("OTConnection: `transport` must be a TransportAdapter (connect, send, disconnect)");
    }
    const clientId = options.clientId ?? randomClientId();
    if (!isValidClientId(clientId)) {
      throw new TypeError(`OTConnection: clientId must be 1 to 64 characters from [A-Za-z0-9_-], got ${JSON.stringify(clientId)}`);
    }
    this.clientId = clientId;
    this.#transport = transport;
    this.#seqs = new SeqCounter(options.lastSeq ?? 0);
    this.#batch = options.batch;
    this.#retry = options.retry;
    this.#logger = options.logger;
    if (isHandshakeCapable(transport)) transport.setHandshake(this.#handshake);
    this.#unwatchClose = transport.onClose?.((event) => this.#onClose(event)) ?? noop;
  }

  /** Where the shared transport is (see {@link OTConnectionState}). */
  get state(): OTConnectionState {
    return this.#phase.kind;
  }

  /** The last `seq` any document used; persist it with `clientId` to resume the identity later. */
  get lastSeq(): number {
    return this.#seqs.last;
  }

  /** The ids of the open documents, in the order they were opened. */
  get documentIds(): readonly string[] {
    return [...this.#documents.keys()];
  }

  /** The client of an open document, or `undefined`. */
  document(docId: string): OTClient<unknown, unknown> | undefined {
    return this.#documents.get(docId)?.client;
  }

  /**
   * Open a document on this connection: connect the transport if needed, join the document and
   * resolve with its client once the server's `snapshot` or `joined` arrived. Opening a document
   * that is open (or being opened) shares its join and resolves with the same client; its `type`
   * must be the same.
   *
   * Rejects as `OTClient.connect()` does; a document whose first join failed is not kept open
   * (a join past the server's documents-per-connection limit is refused with `too_large`: close
   * a document first).
   */
  open<Snapshot, Op>(docId: string, options: OpenDocumentOptions<Snapshot, Op>): Promise<OTClient<Snapshot, Op>> {
    if (this.#phase.kind === "closed") return Promise.reject(new Error(`OTConnection: cannot open "${docId}": the connection was closed`));
    if (!isValidDocId(docId)) {
      return Promise.reject(
        new TypeError(`OTConnection: docId must be 1 to 256 characters from [A-Za-z0-9._~:-], got ${JSON.stringify(docId)}`),
      );
    }
    let open = this.#documents.get(docId);
    if (open === undefined) {
      const channel = isHandshakeCapable(this.#transport)
        ? new HandshakeChannel(docId, this.#host)
        : new DocumentChannel(docId, this.#host);
      const client = new OTClient<Snapshot, Op>({
        ...(this.#batch === undefined ? {} : { batch: this.#batch }),
        ...(this.#retry === undefined ? {} : { retry: this.#retry }),
        ...(this.#logger === undefined ? {} : { logger: this.#logger }),
        ...options,
        transport: channel,
        docId,
        clientId: this.clientId,
        seqCounter: this.#seqs,
      });
      open = {
        client: client as unknown as OTClient<unknown, unknown>,
        type: options.type as unknown as OTType<unknown, unknown>,
        channel,
      };
      this.#documents.set(docId, open);
      this.#byChannel.set(channel, open);
    } else if (open.type !== (options.type as unknown)) {
      return Promise.reject(
        new TypeError(`OTConnection: "${docId}" is open with the type "${open.type.name}"; open it with that type, or close it first`),
      );
    }
    const opened = open;
    const client = opened.client as unknown as OTClient<Snapshot, Op>;
    return client.connect().then(
      () => client,
      async (error: unknown) => {
        // Nothing to keep open: no document arrived (a refused join, a transport that is down).
        if (this.#documents.get(docId) === opened && !client.hasDocument) await client.disconnect().catch(noop);
        throw error;
      },
    );
  }

  /**
   * Connect the transport if it is not, and rejoin every open document that is not live.
   * Resolves when all are live; rejects with the first document's refusal (the others carry on).
   * Needed only after the transport dropped (a reconnecting one rejoins by itself).
   */
  async connect(): Promise<void> {
    if (this.#phase.kind === "closed") throw new Error("OTConnection: connect() after close()");
    if (this.#documents.size === 0) return this.#ensureOpen();
    await Promise.all([...this.#documents.values()].map(({ client }) => client.connect()));
  }

  /**
   * Close every document and the transport. Their clients keep their documents (read them
   * afterwards) but cannot connect again; open nothing more on this connection.
   */
  async close(): Promise<void> {
    if (this.#phase.kind === "closed") return;
    this.#setPhase({ kind: "closed" });
    this.#epoch++;
    const documents = [...this.#documents.values()];
    await Promise.allSettled(documents.map(({ client }) => client.disconnect()));
    if (isHandshakeCapable(this.#transport)) this.#transport.setHandshake(undefined);
    this.#unwatchClose();
    await this.#transport.disconnect();
  }

  // ------------------------------------------------------------------ the transport

  /** Open the shared transport, or join the attempt under way. */
  #ensureOpen(): Promise<void> {
    const phase = this.#phase;
    if (phase.kind === "open") return Promise.resolve();
    if (phase.kind === "connecting") return phase.connected;
    if (phase.kind === "closed") return Promise.reject(new Error("OTConnection: the connection was closed"));
    const epoch = ++this.#epoch;
    let connecting: Promise<void>;
    try {
      connecting = this.#transport.connect((message) => this.#receive(epoch, message));
    } catch (error) {
      connecting = Promise.reject(error);
    }
    const connected = connecting.then(
      () => {
        if (epoch === this.#epoch && this.#phase.kind === "connecting") this.#setPhase({ kind: "open", epoch });
      },
      (error: unknown) => {
        if (epoch === this.#epoch && this.#phase.kind === "connecting") this.#setPhase({ kind: "offline" });
        throw error;
      },
    );
    this.#setPhase({ kind: "connecting", epoch, connected });
    // A reconnection rejoins every open document, not only the one whose connect() started it.
    for (const { client } of this.#documents.values()) {
      if (client.connectionState === "offline") client.connect().catch(noop); // each client reports its own failure
    }
    return connected;
  }

  /**
   * Runs after every (re)connection of a reconnecting transport, before its queue is sent: every
   * connected document's own handshake at once, so the joins go out together (over SSE, the first POST and one array behind it).
   */
  readonly #handshake = async (send: (message: unknown) => Promise<void>): Promise<void> => {
    const channels = [...this.#routes.values()];
    this.#log("debug", "rejoining every open document", { documents: channels.length });
    await Promise.all(
      channels.map(async (channel) => {
        await channel.handshake?.(send);
      }),
    );
  };

  #receive(epoch: number, message: unknown): void {
    if (epoch !== this.#epoch) return;
    if (typeof message !== "object" || message === null) return;
    const { type, docId } = message as { type?: unknown; docId?: unknown };
    if (type === "pong") return;
    if (typeof docId === "string") {
      const channel = this.#routes.get(docId);
      if (channel === undefined) this.#log("debug", "dropped a message for a document that is not open", { docId, type });
      else channel.receiver?.(message);
      return;
    }
    // About no document: an error naming a `seq` belongs to the document that sent that op
    // (one sequence across documents); anything else, every document hears.
    const { seq } = message as { seq?: unknown };
    const owner = typeof seq === "number" ? this.#routes.get(this.#seqOwners.get(seq) ?? "") : undefined;
    if (owner !== undefined) {
      owner.receiver?.(message);
      return;
    }
    for (const channel of [...this.#routes.values()]) channel.receiver?.(message);
  }

  #onClose(event: TransportCloseEvent): void {
    const phase = this.#phase;
    if (phase.kind === "closed" || phase.kind === "offline") return;
    this.#epoch++;
    this.#setPhase({ kind: "offline" });
    for (const channel of [...this.#routes.values()]) {
      try {
        channel.closed(event);
      } catch (error) {
        this.#log("error", "a document's close handling threw", { docId: channel.docId, error });
      }
    }
  }

  // ------------------------------------------------------------------ channels

  async #attach(channel: DocumentChannel, onReceive: (message: unknown) => void): Promise<void> {
    const { docId } = channel;
    if (this.#routes.get(docId) !== channel) {
      if (this.#routes.has(docId))
        throw new Error(`OTConnection: "${docId}" is open on this connection through another client; use connection.open("${docId}")`);
      const leaving = this.#leaving.get(docId);
      if (leaving !== undefined) await leaving;
      if (this.#phase.kind === "closed") throw new Error(`OTConnection: cannot connect "${docId}": the connection was closed`);
      // Checked again after the await: another client of this document may have come first.
      const open = this.#documents.get(docId);
      if (this.#routes.has(docId) || (open !== undefined && open.channel !== channel)) {
        throw new Error(`OTConnection: "${docId}" is open on this connection through another client; use connection.open("${docId}")`);
      }
      if (open === undefined) this.#reopen(channel);
      this.#routes.set(docId, channel);
    }
    if (this.#phase.kind === "closed") throw new Error(`OTConnection: cannot connect "${docId}": the connection was closed`);
    channel.receiver = onReceive;
    await this.#ensureOpen();
  }

  /** A client closed with `disconnect()` connects again: it is an open document again. */
  #reopen(channel: DocumentChannel): void {
    const open = this.#byChannel.get(channel);
    if (open !== undefined) this.#documents.set(channel.docId, open);
  }

  #sendFor(channel: DocumentChannel, message: unknown): Promise<void> {
    if (this.#routes.get(channel.docId) !== channel) {
      return Promise.reject(
        new Error(`OTConnection: "${channel.docId}" is not connected on this connection; call connect() on its client`),
      );
    }
    const { type, seq } = message as { type?: unknown; seq?: unknown };
    if (type === "op" && typeof seq === "number" && !this.#seqOwners.has(seq)) {
      this.#seqOwners.set(seq, channel.docId);
      // The oldest go first: an error names an op of the last few round trips.
      if (this.#seqOwners.size > SEQ_OWNERS_KEPT) this.#seqOwners.delete(this.#seqOwners.keys().next().value as number);
    }
    return this.#transport.send(message);
  }

  #detach(channel: DocumentChannel): Promise<void> {
    const { docId } = channel;
    const open = this.#documents.get(docId);
    if (open?.channel === channel) this.#documents.delete(docId);
    if (this.#routes.get(docId) !== channel) return Promise.resolve();
    this.#routes.delete(docId);
    channel.receiver = undefined;
    const kind = this.#phase.kind;
    // Offline, the server has already forgotten the connection; closed, the transport goes too.
    if (kind !== "open" && kind !== "connecting") return Promise.resolve();
    const leaving = this.#transport.send({ type: "leave", docId }).catch((error: unknown) => {
      this.#log("debug", "leave not sent (the connection is down: the server forgets the document with it)", { docId, error });
    });
    this.#leaving.set(docId, leaving);
    void leaving.then(() => {
      if (this.#leaving.get(docId) === leaving) this.#leaving.delete(docId);
    });
    // Not awaited: a reconnecting transport's queue holds the leave until it is back up.
    return Promise.resolve();
  }

  // ------------------------------------------------------------------ state

  #setPhase(next: Phase): void {
    const from = this.#phase.kind;
    if (!LEGAL[from].includes(next.kind)) {
      throw new Error(`OTConnection: illegal transition ${from} -> ${next.kind} (a bug in the connection)`);
    }
    this.#phase = next;
    if (from !== next.kind) this.#log("debug", `connection ${from} -> ${next.kind}`);
  }

  #log(level: keyof Logger, message: string, context?: Record<string, unknown>): void {
    try {
      this.#logger?.[level]?.(message, { clientId: this.clientId, ...context });
    } catch {
      // A failing logger must not change what the connection does.
    }
  }
}
