import {
  checkNumberOption,
  errorClassOf,
  isHandshakeCapable,
  isValidClientId,
  isValidDocId,
  isValidEpoch,
  isValidRevision,
  MAX_RESTORE_AUTHORS,
  parseServerMessage,
  randomClientId,
  type AckMessage,
  type ErrorCode,
  type ErrorMessage,
  type JoinedMessage,
  type JoinMessage,
  type OpMessage,
  type OTType,
  type RemoteOpMessage,
  type ServerMessage,
  type SnapshotMessage,
  type TransportAdapter,
  type TransportCloseEvent,
  type PresenceMessage,
} from "@open-ot/core";
import { AwaitingConfirm } from "./awaiting-confirm.js";
import type { ClientState, PendingOp, StateContext, SyncStateName } from "./client-state.js";
import { documentStoreFor, type DocumentStore, type HeldDocument } from "./document-store.js";
import { resolveDiff } from "./resolve-diff.js";
import type { ConnectionState, JoinReason, LostDocument, OTClientEvents, OTClientStatus } from "./ot-client-events.js";
import { OTClientError } from "./ot-client-error.js";
import type { OTClientLogger, OTClientOptions } from "./ot-client-options.js";
import { rebaseOntoSnapshot, type DiffFunction, type RebaseResult } from "./rebase-onto-snapshot.js";
import { refusalAction } from "./refusal-advice.js";
import { retryDelay, retrySettings } from "./retry-delay.js";
import { SeqCounter } from "./seq-counter.js";
import { Synchronized } from "./synchronized.js";
import { TypedEmitter, type Listener } from "./typed-emitter.js";
import { PresenceTracker, type LocalPresence, type PeerPresenceView } from "./presence-tracker.js";

/** The document as the client knows it, both copies held by the client's {@link DocumentStore}. */
interface KnownDocument {
  /** The server's document at `revision`. */
  readonly server: HeldDocument;
  /**
   * `server` plus the op in flight plus the buffer: what the user sees. `undefined` after a
   * remote op arrived while edits were unacknowledged: built from `server` and the OT state's
   * ops when read (see `#view`), so that a remote op is applied to one copy, not two.
   */
  readonly view: HeldDocument | undefined;
  /** The last revision the client has seen. */
  readonly revision: number;
}

type Timer = ReturnType<typeof setTimeout>;

/** An author's highest committed `seq` seen, and when it last rose (see `#authorSeqRises`). */
interface AuthorSeq {
  seq: number;
  rise: number;
}

/**
 * The connection lifecycle, each state with the data it needs (see {@link ConnectionState} for
 * the drawing). Changed only in `#setConnection`, which checks {@link LEGAL}.
 */
type Connection =
  | { readonly status: "offline" | "connecting" | "live" }
  | {
      readonly status: "joining";
      /** Joins sent on this connection whose answer has not arrived; only the last answer counts. */
      readonly answersAwaited: number;
      readonly reason: JoinReason;
      /** The revision the last join resumed from; `undefined`: it asked for a snapshot. */
      readonly from: number | undefined;
      /** The last join offered the client's copy of a lost document. */
      readonly restoring: boolean;
    }
  | {
      readonly status: "waiting";
      /** What the join sent when the timer fires is for (the refused request's purpose). */
      readonly reason: JoinReason;
      readonly restoring: boolean;
      readonly code: ErrorCode;
      readonly error: OTClientError;
      readonly attempt: number;
      readonly nextRetryAt: number;
      readonly timer: Timer;
    }
  | { readonly status: "refused"; readonly error: OTClientError }
  | { readonly status: "lost"; readonly lost: LostDocument; readonly error: OTClientError };

/** Which connection states may follow which; anything else is a bug and throws. */
const LEGAL: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  offline: ["connecting", "offline"],
  connecting: ["joining", "offline"],
  joining: ["joining", "live", "waiting", "refused", "lost", "offline"],
  live: ["joining", "waiting", "refused", "offline"],
  waiting: ["joining", "offline"],
  refused: ["joining", "offline"],
  lost: ["joining", "offline"],
};

/** A resync from a snapshot that the next join must ask for. */
interface ResyncRequest {
  readonly reason: JoinReason;
  readonly error: OTClientError | undefined;
  /** Drop the unacknowledged edits instead of rebasing them (the server refused them already). */
  readonly discard: boolean;
}

/** Sends one message on the connection a join is meant for. */
type Send = (message: unknown) => Promise<void>;

/**
 * The OT client for one document: keeps the local view, sends local edits one at a time,
 * transforms remote ops against what is unacknowledged, and survives reconnections without
 * losing or doubling an edit.
 *
 * ```ts
 * const client = new OTClient({ type: TextType, transport, docId: "notes" });
 * client.on("snapshot", ({ snapshot }) => (textarea.value = snapshot));
 * client.on("remoteOp", ({ op }) => (textarea.value = TextType.apply(textarea.value, op)));
 * await client.connect();
 * client.submit([{ r: 5 }, { i: "!" }]); // after applying the edit to the textarea
 * ```
 *
 * Two state machines, each held in one variable with one setter: the OT state (an object,
 * {@link ClientState}: synchronized, awaitingConfirm, awaitingWithBuffer) and the connection
 * lifecycle ({@link ConnectionState}). Events are queued while a message is being handled and
 * emitted once the client is consistent again, so a listener may call `submit` safely.
 */
export class OTClient<Snapshot, Op> {
  /** This client's identity (sent in every join and op). */
  readonly clientId: string;
  /** The document this client edits. */
  readonly docId: string;

  readonly #type: OTType<Snapshot, Op>;
  readonly #store: DocumentStore<Snapshot, Op>;
  readonly #transport: TransportAdapter;
  readonly #batch: boolean;
  readonly #diff: DiffFunction<Snapshot, Op> | undefined;
  readonly #logger: OTClientLogger | undefined;
  readonly #emitter: TypedEmitter<OTClientEvents<Snapshot, Op>>;
  readonly #ctx: StateContext<Snapshot, Op>;
  readonly #retry: { initialDelay: number; maxDelay: number; random: () => number };
  readonly #restoreMode: "auto" | "manual";

  #doc: KnownDocument | undefined;
  /** The document's epoch the client's revision belongs to, as the server last named it. */
  #docEpoch: string | undefined;
  /**
   * The highest `seq` seen committed per author (from `op` messages), for a restore copy: it
   * tells a client whose ack was lost that its op is in the copy. Entries are updated in place;
   * past the protocol's limit the authors whose seq rose longest ago go first (see
   * {@link #trimAuthorSeqs}).
   */
  readonly #authorSeqs = new Map<string, AuthorSeq>();
  /** Counts the rises of an author's seq, to order {@link #authorSeqs} by the last one. */
  #authorSeqRises = 0;
  /** Retries in a row of requests refused with a transient code; 0 once live. */
  #retryAttempt = 0;
  /** The seq last refused with `bad_revision`, to tell a lost document from a bug the second time. */
  #badRevisionSeq: number | undefined;
  #status: OTClientStatus = { state: "offline", reason: "not connected: call connect()" };
  #sync: ClientState<Op> = new Synchronized<Op>();
  #connection: Connection = { status: "offline" };
  readonly #seqs: SeqCounter;
  /**
   * Counts transport connections opened by `connect()`. A receiver or a send failure from an
   * older connection is ignored (ioredis's `connectionEpoch`, issue #2099).
   */
  #epoch = 0;
  /**
   * The `send` of the connection the last handshake ran on (a HandshakeCapable transport). Later
   * joins go out on that connection or fail: a join handed to the transport while it reconnects
   * would wait in its queue and be sent after the next handshake's own join, and its answer
   * would then be taken for the answer to a later join (a restore refused that nobody refused).
   */
  #connectionSend: Send | undefined;
  /** Send a join outside the handshake: on the handshake's connection when there is one. */
  readonly #sendJoin: Send = (message) => (this.#connectionSend ?? ((m: unknown) => this.#transport.send(m)))(message);
  #resync: ResyncRequest | undefined;
  /** The `seq` that was refused once and then resent, rebased, under the same `seq`. */
  #resentAfterRefusal: number | undefined;
  #waiters: { resolve: () => void; reject: (error: OTClientError) => void }[] = [];
  #unwatchClose: (() => void) | undefined;
  readonly #queued: (() => void)[] = [];
  #flushing = false;
  /** Presence (docs/protocol.md, "Presence"); undefined unless the `presence` option asked for it. */
  readonly #presence: PresenceTracker<Snapshot, Op> | undefined;

  constructor(options: OTClientOptions<Snapshot, Op>) {
    const { type, transport, docId } = options;
    if (
      type === null ||
      typeof type !== "object" ||
      typeof type.apply !== "function" ||
      typeof type.transform !== "function" ||
      typeof type.compose !== "function"
    ) {
      throw new TypeError("OTClient: `type` must be an OTType with apply, transform and compose (for text, core's TextType)");
    }
    if (
      transport === null ||
      typeof transport !== "object" ||
      typeof transport.connect !== "function" ||
      typeof transport.send !== "function" ||
      typeof transport.disconnect !== "function"
    ) {
      throw new TypeError("OTClient: `transport` must be a TransportAdapter (connect, send, disconnect)");
    }
    if (!isValidDocId(docId)) {
      throw new TypeError(`OTClient: docId must be 1 to 256 characters from [A-Za-z0-9._~:-], got ${JSON.stringify(docId)}`);
    }
    const clientId = options.clientId ?? randomClientId();
    if (!isValidClientId(clientId)) {
      throw new TypeError(`OTClient: clientId must be 1 to 64 characters from [A-Za-z0-9_-], got ${JSON.stringify(clientId)}`);
    }
    const lastSeq = checkNumberOption("OTClient", "lastSeq", options.lastSeq ?? 0, { min: 0, integer: true });
    if (options.seqCounter !== undefined && (!(options.seqCounter instanceof SeqCounter) || options.lastSeq !== undefined)) {
      throw new TypeError("OTClient: `seqCounter` must be a SeqCounter, and goes without `lastSeq` (the counter holds it)");
    }
    if ((options.snapshot === undefined) !== (options.revision === undefined)) {
      throw new TypeError("OTClient: give `snapshot` and `revision` together (a known state to resume from), or neither");
    }
    if (options.revision !== undefined && !isValidRevision(options.revision)) {
      throw new TypeError(`OTClient: revision must be a non-negative safe integer, got ${String(options.revision)}`);
    }
    if (options.epoch !== undefined && (options.snapshot === undefined || !isValidEpoch(options.epoch))) {
      throw new TypeError(
        "OTClient: `epoch` goes with `snapshot` and `revision`, as the server sent it (1 to 64 characters from [A-Za-z0-9_-])",
      );
    }
    if (options.restore !== undefined && options.restore !== "auto" && options.restore !== "manual") {
      throw new TypeError(`OTClient: restore must be "auto" or "manual", got ${JSON.stringify(options.restore)}`);
    }

    this.clientId = clientId;
    this.docId = docId;
    this.#type = type;
    this.#store = documentStoreFor(type);
    this.#transport = transport;
    this.#batch = options.batch ?? false;
    this.#diff = resolveDiff(type, options.diff);
    this.#logger = options.logger;
    this.#seqs = options.seqCounter ?? new SeqCounter(lastSeq);
    this.#retry = retrySettings(options.retry);
    this.#restoreMode = options.restore ?? "auto";
    if (options.snapshot !== undefined && options.revision !== undefined) {
      const held = this.#store.hold(options.snapshot);
      this.#doc = { server: held, view: held, revision: options.revision };
      this.#docEpoch = options.epoch;
    }
    this.#emitter = new TypedEmitter((event, error) => this.#log("error", `a listener of "${event}" threw`, { error }));
    if (options.presence !== undefined && options.presence !== false) {
      const interval = options.presence === true ? 50 : options.presence.intervalMs;
      this.#presence = new PresenceTracker(type, interval, (state) => this.#sendPresence(state));
    }
    this.#ctx = {
      type,
      nextSeq: () => this.#seqs.next(),
      sendOp: (pending) => this.#sendOp(pending),
    };
  }

  // ------------------------------------------------------------------ public state

  /** The local view: the server document plus the op in flight plus the buffer. */
  get snapshot(): Snapshot {
    return this.#store.read(this.#view(this.#known("snapshot")));
  }

  /** The last server revision the client has seen. */
  get revision(): number {
    return this.#known("revision").revision;
  }

  /** True once the client has a document (from a snapshot, or the `snapshot` option). */
  get hasDocument(): boolean {
    return this.#doc !== undefined;
  }

  /** The OT state: `synchronized` when nothing is pending. */
  get state(): SyncStateName {
    return this.#sync.name;
  }

  /** True when every local edit is acknowledged. */
  get synced(): boolean {
    return this.#sync.pending === undefined;
  }

  /** The connection lifecycle; only `live` means edits are being committed. */
  get connectionState(): ConnectionState {
    return this.#connection.status;
  }

  /**
   * The connection state with what to tell the person: the next retry time while `waiting`,
   * the code and what the application must do when `refused`, the loss when `lost`.
   */
  get status(): OTClientStatus {
    return this.#status;
  }

  /** The document's epoch the client's revision belongs to (persist it with `snapshot` and `revision`). */
  get epoch(): string | undefined {
    return this.#docEpoch;
  }

  /** The last `seq` this client used; persist it with `clientId` to resume the identity later. */
  get lastSeq(): number {
    return this.#seqs.last;
  }

  // ------------------------------------------------------------------ presence

  /**
   * Set this client's presence in the document (needs the `presence` option): a label, a colour,
   * and ranges in the current local view (`snapshot`). Sent when the server takes presence and no
   * edits are pending, at most every `intervalMs`; the last value wins. Ranges follow later edits
   * until sent. A type without `transformCursor` sends no ranges.
   */
  setPresence(state: LocalPresence): void {
    this.#requirePresence("setPresence").set(state);
  }

  /** Remove this client's presence from the document (others see it gone). */
  clearPresence(): void {
    this.#requirePresence("clearPresence").set(null);
  }

  /**
   * The other clients' presence by author label, their ranges mapped into the current local
   * view (through the ops committed since they were set and this client's unacknowledged
   * edits). Read it again after `remoteOp`, `ack` and `presence` events. Empty without the option.
   */
  get presence(): ReadonlyMap<string, PeerPresenceView> {
    const tracker = this.#presence;
    const doc = this.#doc;
    if (tracker === undefined || doc === undefined) return new Map();
    const pending: Op[] = [];
    if (this.#sync.pending !== undefined) pending.push(this.#sync.pending.op);
    if (this.#sync.buffer !== undefined) pending.push(this.#sync.buffer);
    return tracker.peers(doc.revision, pending);
  }

  #requirePresence(what: string): PresenceTracker<Snapshot, Op> {
    if (this.#presence === undefined) throw new Error(`OTClient: ${what}() needs the \`presence\` option`);
    return this.#presence;
  }

  /** The tracker's send: only live, with a document and nothing pending, so ranges are exactly at `revision`. */
  #sendPresence(state: LocalPresence | null): boolean {
    const doc = this.#doc;
    if (this.#connection.status !== "live" || doc === undefined || this.#sync.pending !== undefined) return false;
    const message: PresenceMessage = {
      type: "presence",
      docId: this.docId,
      state: state === null ? null : { ...state, revision: doc.revision },
    };
    if (message.state?.ranges === undefined) delete message.state?.revision;
    this.#transport.send(message).catch((cause: unknown) => this.#log("debug", "could not send presence", { error: cause }));
    return true;
  }

  // ------------------------------------------------------------------ events

  /** Add a listener; returns a function that removes it. */
  on<K extends keyof OTClientEvents<Snapshot, Op>>(event: K, listener: Listener<OTClientEvents<Snapshot, Op>[K]>): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Remove a listener added with {@link on}. */
  off<K extends keyof OTClientEvents<Snapshot, Op>>(event: K, listener: Listener<OTClientEvents<Snapshot, Op>[K]>): void {
    this.#emitter.off(event, listener);
  }

  // ------------------------------------------------------------------ public actions

  /**
   * Connect the transport (unless this client already did) and join the document. Resolves
   * when the server's `snapshot` or `joined` arrived; rejects with an {@link OTClientError}
   * when the transport cannot connect (`connection_failed`), the connection ends first
   * (`connection_lost`), the server refuses the join (its error code), or `disconnect()` is
   * called first (`disconnected`).
   *
   * Call it again after the connection was lost: it reconnects, rejoins from the client's
   * revision and resends the op in flight. With a `HandshakeCapable` transport (the
   * reconnecting wrapper) that happens by itself after every reconnection.
   */
  connect(): Promise<void> {
    const connection = this.#connection;
    if (connection.status === "live") return Promise.resolve();
    if (connection.status === "lost") return Promise.reject(connection.error);
    const live = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    try {
      if (connection.status === "offline") void this.#open();
      else if (connection.status === "refused") void this.#join(this.#sendJoin, "connect", false);
      // "connecting", "joining" and "waiting": already under way (a retry is due); wait for it.
    } finally {
      this.#flush();
    }
    return live;
  }

  /**
   * While `waiting` (a request refused with a transient code): try now instead of when the
   * timer says (a "Retry now" button). Does nothing in other states.
   */
  retryNow(): void {
    const connection = this.#connection;
    if (connection.status !== "waiting") return;
    try {
      void this.#join(this.#sendJoin, connection.reason, false, connection.restoring);
    } finally {
      this.#flush();
    }
  }

  /**
   * While `lost`: offer the client's copy to recreate the document (the restore extension,
   * docs/protocol.md "Lost documents and restore"). Of many clients restoring at once exactly
   * one copy wins; the others rebase their unacknowledged edits onto it, and no text is applied
   * twice. Resolves when live again (the `restored` event says whose copy won); rejects when the
   * server refuses (another document holds the id: the status stays `lost`, not restorable).
   * With the `restore` option `"auto"` (the default) the client does this by itself.
   */
  restore(): Promise<void> {
    const connection = this.#connection;
    if (connection.status !== "lost") {
      return Promise.reject(new Error(`OTClient: restore() is for a lost document (connectionState "lost"), not "${connection.status}"`));
    }
    const live = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    try {
      void this.#join(this.#sendJoin, "restore", false, true);
    } finally {
      this.#flush();
    }
    return live;
  }

  /**
   * While `lost`: give up this client's copy and take the server's document as it is (created
   * afresh if it has none). The unacknowledged edits are dropped and reported in the `resync`
   * event (`dropped`); read `snapshot` first if the person should keep the text. Resolves when
   * live again.
   */
  adoptServerCopy(): Promise<void> {
    const connection = this.#connection;
    if (connection.status !== "lost") {
      return Promise.reject(
        new Error(`OTClient: adoptServerCopy() is for a lost document (connectionState "lost"), not "${connection.status}"`),
      );
    }
    const live = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    // A join with neither revision nor epoch: the server's document as it is, whatever its life.
    this.#resync = { reason: "adopt", error: connection.error, discard: true };
    this.#docEpoch = undefined;
    try {
      void this.#join(this.#sendJoin, "adopt", false);
    } finally {
      this.#flush();
    }
    return live;
  }

  /**
   * A local edit, which the caller has already applied to its own view. Throws (and changes
   * nothing) when there is no document yet or the op does not apply to the view.
   */
  submit(op: Op): void {
    const doc = this.#known("submit");
    // Apply first: an op that does not fit the view throws here, before anything changed.
    const view = this.#store.apply(this.#view(doc), op);
    const next = this.#sync.applyClient(op, this.#ctx);
    this.#doc = { ...doc, view };
    this.#presence?.viewChanged(op);
    try {
      this.#setSync(next);
    } finally {
      this.#flush();
    }
  }

  /**
   * Close the connection. The client keeps its document and unacknowledged edits; `connect()`
   * later rejoins and resends them.
   */
  async disconnect(): Promise<void> {
    this.#epoch++;
    this.#presence?.stop();
    this.#connectionSend = undefined;
    if (isHandshakeCapable(this.#transport)) this.#transport.setHandshake(undefined);
    this.#unwatchClose?.();
    this.#unwatchClose = undefined;
    this.#setConnection(
      { status: "offline" },
      new OTClientError("disconnected", "OTClient: disconnect() was called before the join was answered", { docId: this.docId }),
    );
    this.#flush();
    await this.#transport.disconnect();
  }

  // ------------------------------------------------------------------ connecting and joining

  async #open(): Promise<void> {
    const epoch = ++this.#epoch;
    const transport = this.#transport;
    this.#connectionSend = undefined;
    this.#setConnection({ status: "connecting" });
    this.#watchClose();
    if (isHandshakeCapable(transport)) transport.setHandshake(this.#handshake);
    try {
      await transport.connect((message) => this.#receive(message, epoch));
    } catch (cause) {
      if (epoch !== this.#epoch) return;
      const error = new OTClientError("connection_failed", `OTClient: the transport could not connect: ${describe(cause)}`, {
        docId: this.docId,
        cause,
      });
      this.#report(error);
      this.#setConnection({ status: "offline" }, error);
      this.#flush();
      return;
    }
    if (epoch !== this.#epoch) return;
    // A HandshakeCapable transport has normally sent the join from its handshake by now.
    if (this.#connection.status === "connecting") await this.#join((m) => transport.send(m), "connect", false);
  }

  /** Runs after every (re)connection of a HandshakeCapable transport, before its queue is sent. */
  readonly #handshake = async (send: Send): Promise<void> => {
    this.#connectionSend = send;
    const connection = this.#connection;
    if (connection.status === "offline") return;
    // A lost document waits for the application, unless the client restores it by itself.
    if (connection.status === "lost" && !(connection.lost.restorable && this.#restoreMode === "auto")) return;
    const restoring =
      connection.status === "lost" || ((connection.status === "joining" || connection.status === "waiting") && connection.restoring);
    const reason: JoinReason = restoring ? "restore" : connection.status === "connecting" ? "connect" : "reconnect";
    await this.#join(send, reason, true, restoring);
  };

  /**
   * Send `join`. With `fromHandshake`, a send failure is thrown so the transport counts the
   * attempt as failed; otherwise it is reported here.
   */
  async #join(send: Send, reason: JoinReason, fromHandshake: boolean, restoring = false): Promise<void> {
    const resync = this.#resync;
    const doc = this.#doc;
    const message: JoinMessage = { type: "join", docId: this.docId, clientId: this.clientId };
    // Leave the revision out only when there is no state to resume, or a snapshot is wanted
    // (a restore offers the copy at its revision, whatever else was asked).
    if (doc !== undefined && (resync === undefined || restoring)) message.revision = doc.revision;
    // With the epoch, the server tells an earlier life of the document from this one, and never
    // creates a document the client holds a copy of.
    if (doc !== undefined && this.#docEpoch !== undefined) message.epoch = this.#docEpoch;
    if (restoring && doc !== undefined) {
      const data = this.#store.read(doc.server);
      this.#trimAuthorSeqs(MAX_RESTORE_AUTHORS);
      message.restore =
        this.#authorSeqs.size === 0
          ? { data }
          : { data, seqs: Object.fromEntries(Array.from(this.#authorSeqs, ([author, known]) => [author, known.seq])) };
    }
    if (this.#batch) message.batch = true;
    if (this.#presence !== undefined) {
      message.presence = true;
      this.#presence.joinSent();
    }

    const current = this.#connection;
    // A fresh connection has no joins outstanding; on the same connection answers come in order.
    const sameConnection = !fromHandshake && current.status === "joining";
    this.#setConnection({
      status: "joining",
      answersAwaited: sameConnection ? current.answersAwaited + 1 : 1,
      reason: restoring ? "restore" : (resync?.reason ?? reason),
      from: message.revision,
      restoring: restoring && doc !== undefined,
    });
    this.#flush();

    const epoch = this.#epoch;
    try {
      await send(message);
    } catch (cause) {
      const error = new OTClientError("send_failed", `OTClient: could not send join: ${describe(cause)}`, {
        docId: this.docId,
        cause,
      });
      if (fromHandshake) throw error;
      if (epoch !== this.#epoch) return;
      this.#report(error);
      this.#sendFailed(error);
      this.#flush();
    }
  }

  /** Ask for a snapshot (a join without revision) and rebase onto it. */
  #requestResync(reason: JoinReason, error: OTClientError | undefined, discard: boolean): void {
    this.#resync = { reason, error, discard };
    const status = this.#connection.status;
    // Offline, connecting or refused: the next join asks for the snapshot.
    if (status === "live" || status === "joining") void this.#join(this.#sendJoin, reason, false);
  }

  #watchClose(): void {
    if (this.#unwatchClose !== undefined || this.#transport.onClose === undefined) return;
    this.#unwatchClose = this.#transport.onClose((event) => this.#onClose(event));
  }

  #onClose(event: TransportCloseEvent): void {
    // A local close is our own disconnect(), already handled.
    if (event.local || this.#connection.status === "offline") return;
    const error = new OTClientError(
      "connection_lost",
      `OTClient: the connection closed (${event.code}${event.reason ? ` ${event.reason}` : ""}); call connect() to rejoin`,
      { docId: this.docId, closeCode: event.code, cause: event.error },
    );
    this.#epoch++;
    this.#report(error);
    this.#setConnection({ status: "offline" }, error);
    this.#flush();
  }

  /**
   * A send was refused. A reconnecting (HandshakeCapable) transport rejoins and resends by
   * itself. Any other transport that cannot hand a message over is not to be trusted with the
   * next ones either (an op in flight that never arrives would stall the client): close it, so
   * that `connect()` starts over and resends.
   */
  #sendFailed(error: OTClientError): void {
    if (isHandshakeCapable(this.#transport)) return;
    if (this.#connection.status === "offline") return;
    this.#epoch++;
    this.#setConnection({ status: "offline" }, error);
    this.#transport
      .disconnect()
      .catch((cause: unknown) => this.#log("warn", "disconnecting after a failed send failed too", { error: cause }));
  }

  // ------------------------------------------------------------------ receiving

  #receive(raw: unknown, epoch: number): void {
    if (epoch !== this.#epoch) return;
    try {
      const parsed = parseServerMessage(raw);
      if (!parsed.ok) {
        this.#report(
          new OTClientError("bad_server_message", `OTClient: ignored a message that is not a protocol message: ${parsed.error.message}`),
        );
        return;
      }
      this.#handle(parsed.message);
    } catch (cause) {
      // Nothing may unwind into the transport. An exception here is a bug or a type that
      // cannot handle what the server sent; start over from a snapshot.
      this.#violation(`handling a server message threw: ${describe(cause)}`, cause);
    } finally {
      this.#flush();
    }
  }

  #handle(message: ServerMessage): void {
    if (message.type === "pong") return;
    if (message.type === "error") {
      this.#onError(message);
      return;
    }
    if (message.docId !== this.docId) {
      this.#log("debug", "ignored a message for another document", { docId: message.docId, type: message.type });
      return;
    }
    switch (message.type) {
      case "presence":
        if (this.#presence !== undefined && this.#doc !== undefined && this.#presence.receive(message, this.#doc.revision))
          this.#emit("presence", this.presence);
        return;
      case "snapshot":
      case "joined":
        this.#onAnswer(message);
        return;
      case "ack":
        this.#onAck(message);
        return;
      case "op":
        this.#onRemoteOp(message as RemoteOpMessage<Op>);
        return;
    }
  }

  /**
   * Only the answer to the last join sent on this connection counts; earlier answers, and
   * answers that arrive while live (a join replayed from a transport's queue), are ignored. Any
   * revision they would have skipped is caught by gap detection.
   */
  #onAnswer(message: SnapshotMessage | JoinedMessage | ErrorMessage): void {
    const connection = this.#connection;
    if (connection.status !== "joining") {
      this.#log("debug", "ignored a join answer that no join is waiting for", { type: message.type });
      return;
    }
    if (connection.answersAwaited > 1) {
      this.#setConnection({ ...connection, answersAwaited: connection.answersAwaited - 1 });
      return;
    }
    switch (message.type) {
      case "snapshot":
        this.#onSnapshot(message as SnapshotMessage<Snapshot>, connection.reason);
        return;
      case "joined":
        this.#onJoined(message, connection);
        return;
      case "error":
        this.#onJoinRefused(message, connection);
        return;
    }
  }

  /**
   * A refused join: the document was lost (a `bad_revision` for the revision the client holds),
   * a transient refusal (wait, then join again), or a final one (stop, and say what to do).
   */
  #onJoinRefused(message: ErrorMessage, joining: Extract<Connection, { status: "joining" }>): void {
    const error = this.#serverError(message);
    if (message.code === "bad_revision" && this.#doc !== undefined) {
      this.#onLost(message, joining.restoring);
      return;
    }
    if (errorClassOf(message.code) === "transient") {
      this.#wait(error, message.code, joining.reason, joining.restoring);
      return;
    }
    this.#setConnection({ status: "refused", error }, error);
  }

  /**
   * The server no longer has the document as the client knows it. Everything the client holds
   * stays (its view, its unacknowledged edits); with the `restore` option "auto" it offers its
   * copy at once. A refused restore means the server holds another document under this id.
   */
  #onLost(message: ErrorMessage, wasRestoring: boolean): void {
    const doc = this.#known("receive");
    const lost: LostDocument = {
      serverRevision: message.serverRevision,
      revision: doc.revision,
      restorable: !wasRestoring,
      unacknowledged: this.#sync.pending !== undefined,
    };
    const error = new OTClientError(
      "document_lost",
      wasRestoring
        ? `OTClient: the server refused to recreate document "${this.docId}" from this copy: it holds another document under this id now (${message.message}). Call adoptServerCopy() to take it (this copy's unsent edits are dropped), or keep this copy elsewhere.`
        : `OTClient: the server lost document "${this.docId}" (${message.message}). This copy and its unsent edits are kept: call restore() to recreate the document from it, or adoptServerCopy() to take the server's.`,
      { docId: this.docId },
    );
    const restoring = lost.restorable && this.#restoreMode === "auto";
    this.#report(error);
    this.#setConnection({ status: "lost", lost, error }, error, restoring);
    this.#emit("lost", lost);
    if (restoring) void this.#join(this.#sendJoin, "restore", false, true);
  }

  /** Wait (backoff with jitter, no limit while connected), then send the join again: it rejoins and resends. */
  #wait(error: OTClientError, code: ErrorCode, reason: JoinReason, restoring: boolean): void {
    const attempt = ++this.#retryAttempt;
    const delay = retryDelay(attempt, this.#retry.random(), this.#retry.initialDelay, this.#retry.maxDelay);
    const timer: Timer = setTimeout(() => {
      if (this.#connection !== phase) return;
      try {
        void this.#join(this.#sendJoin, reason, false, restoring);
      } finally {
        this.#flush();
      }
    }, delay);
    const phase: Connection = {
      status: "waiting",
      reason,
      restoring,
      code,
      error,
      attempt,
      nextRetryAt: Date.now() + Math.ceil(delay),
      timer,
    };
    this.#log("debug", "retrying after a transient refusal", { code, attempt, delay });
    this.#setConnection(phase);
  }

  #onJoined(message: JoinedMessage, joining: Extract<Connection, { status: "joining" }>): void {
    const doc = this.#doc;
    const from = joining.from;
    if (doc === undefined || from === undefined || message.revision > doc.revision) {
      // We asked for a snapshot, or to resume from an older revision: a server bug.
      const error = new OTClientError(
        "protocol_violation",
        `OTClient: the server answered "joined" at revision ${message.revision} to a join ${
          doc === undefined || from === undefined ? "without revision" : `with revision ${doc.revision}`
        }`,
        { docId: this.docId },
      );
      this.#report(error);
      this.#setConnection({ status: "refused", error }, error);
      return;
    }
    // A revision of ours in another epoch: the document was restored from a copy at that revision.
    const previousEpoch = this.#docEpoch;
    if (message.epoch !== undefined) this.#docEpoch = message.epoch;
    // A revision below ours only means the replay repeats what we have; repeats are dropped.
    this.#setConnection({ status: "live" });
    // A restore join answered `joined` in a new epoch: this copy won. An ordinary one: another
    // copy at this very revision did.
    if (message.epoch !== undefined && message.epoch !== previousEpoch && (joining.restoring || previousEpoch !== undefined)) {
      this.#emit("restored", {
        outcome: joining.restoring ? "restored" : "rebased",
        revision: doc.revision,
        previousRevision: doc.revision,
      });
    }
    // The op in flight may or may not have been committed while we were away. Resend it as it
    // stands (same seq, transformed so far, based on our revision): if it was committed, the
    // server drops it as a duplicate and its ack arrives in the replay.
    this.#sync.resend(this.#ctx);
  }

  #onSnapshot(message: SnapshotMessage<Snapshot>, reason: JoinReason): void {
    if (message.docType !== this.#type.name) {
      const error = new OTClientError(
        "doc_type_mismatch",
        `OTClient: document "${this.docId}" has docType "${message.docType}" but the client's type is "${this.#type.name}"; pass the matching type`,
        { docId: this.docId },
      );
      this.#report(error);
      this.#setConnection({ status: "refused", error }, error);
      return;
    }
    const previous = this.#doc;
    const resync = this.#resync;
    const previousEpoch = this.#docEpoch;
    this.#resync = undefined;
    this.#docEpoch = message.epoch;
    // The document was replaced: ops kept to place peers' ranges no longer apply.
    this.#presence?.reset();
    if (previous === undefined) {
      const held = this.#store.hold(message.data);
      this.#doc = { server: held, view: held, revision: message.revision };
      this.#setConnection({ status: "live" });
      this.#emit("snapshot", { snapshot: message.data, revision: message.revision });
      return;
    }

    const sync = this.#sync;
    const input = {
      type: this.#type,
      diff: this.#diff,
      server: this.#store.read(previous.server),
      pending: sync.pending,
      buffer: sync.buffer,
      snapshot: message.data,
      lastSeq: message.lastSeq,
      discard: resync?.discard ?? false,
    };
    let result: RebaseResult<Snapshot, Op>;
    try {
      result = rebaseOntoSnapshot(input);
    } catch (cause) {
      // The edits do not fit what the client believed; keeping them would corrupt the view.
      this.#log("warn", "rebasing local edits onto the snapshot failed; dropping them", { error: cause });
      result = rebaseOntoSnapshot({ ...input, diff: undefined });
    }

    let pending: PendingOp<Op> | undefined;
    if (result.unacked !== undefined) {
      pending = { op: result.unacked, seq: result.seq ?? this.#ctx.nextSeq() };
      if (resync?.reason === "op_refused" && result.seq !== undefined) this.#resentAfterRefusal = result.seq;
    }
    this.#doc = { server: this.#store.hold(message.data), view: this.#store.hold(result.view), revision: message.revision };
    this.#setSync(pending === undefined ? new Synchronized<Op>() : new AwaitingConfirm(pending));
    this.#setConnection({ status: "live" });
    this.#sync.resend(this.#ctx);

    if (result.dropped !== undefined) {
      this.#report(
        new OTClientError(
          "edits_dropped",
          resync?.reason === "adopt"
            ? "OTClient: local edits were dropped: the application took the server's document (adoptServerCopy)"
            : this.#diff === undefined
              ? `OTClient: local edits were dropped on a resync: the type "${this.#type.name}" has no diff; pass the \`diff\` option to keep them`
              : "OTClient: local edits were dropped on a resync: the server refused them twice",
          { docId: this.docId },
        ),
      );
    }
    this.#emit("snapshot", { snapshot: result.view, revision: message.revision });
    // A snapshot never says that this client's copy won (`joined` in a new epoch does): after a
    // restore, or in a new epoch, another copy did.
    if (
      reason === "restore" ||
      reason === "adopt" ||
      (previousEpoch !== undefined && message.epoch !== undefined && message.epoch !== previousEpoch)
    ) {
      this.#emit("restored", {
        outcome: reason === "adopt" ? "adopted" : "rebased",
        revision: message.revision,
        previousRevision: previous.revision,
      });
    }
    this.#emit("resync", {
      reason,
      error: resync?.error,
      revision: message.revision,
      previousRevision: previous.revision,
      pendingCommitted: result.pendingCommitted,
      dropped: result.dropped,
    });
  }

  /**
   * Acks and ops are handled only while live: between a join and its answer they belong to the
   * join being replaced (docs/protocol.md "Joining and resuming"), and the answer's replay brings them again.
   * Returns the known document when `revision` is the next one, `undefined` otherwise.
   */
  #inOrder(revision: number): KnownDocument | undefined {
    if (this.#connection.status !== "live") {
      this.#log("debug", "ignored traffic that arrived before the answer to a join", { revision });
      return undefined;
    }
    const doc = this.#known("receive");
    if (revision <= doc.revision) {
      this.#log("debug", "dropped a repeated revision", { revision, current: doc.revision });
      return undefined;
    }
    if (revision > doc.revision + 1) {
      // Something was lost on the way: rejoin from our revision, the replay fills the gap.
      this.#log("warn", "revision gap; rejoining", { revision, current: doc.revision });
      void this.#join(this.#sendJoin, "gap", false);
      return undefined;
    }
    return doc;
  }

  #onAck(message: AckMessage): void {
    const doc = this.#inOrder(message.revision);
    if (doc === undefined) return;
    const pending = this.#sync.pending;
    if (pending === undefined || (message.seq !== undefined && message.seq !== pending.seq)) {
      this.#violation(
        pending === undefined
          ? `ack at revision ${message.revision} while no op was in flight`
          : `ack for seq ${String(message.seq)} while seq ${pending.seq} was in flight`,
      );
      return;
    }
    // Our op has been transformed against every op up to revision - 1: it is what was committed.
    // With no buffer the view is exactly the server's document once the op is committed.
    const server = this.#sync.buffer === undefined && doc.view !== undefined ? doc.view : this.#store.apply(doc.server, pending.op);
    this.#doc = { server, view: this.#sync.buffer === undefined ? server : doc.view, revision: message.revision };
    if (this.#resentAfterRefusal === pending.seq) this.#resentAfterRefusal = undefined;
    this.#presence?.committed(message.revision, pending.op);
    this.#setSync(this.#sync.serverAck(this.#ctx));
    this.#presence?.flush();
    this.#emit("ack", { revision: message.revision, seq: pending.seq });
  }

  #onRemoteOp(message: RemoteOpMessage<Op>): void {
    const doc = this.#inOrder(message.revision);
    if (doc === undefined) return;
    let server: HeldDocument;
    let view: HeldDocument | undefined;
    let next: ClientState<Op>;
    let viewOp: Op;
    try {
      // Apply to the server document first: that is where the op is checked, once; what it
      // gives is transformed without checking it again.
      const received = this.#store.receive(doc.server, message.op);
      server = received.held;
      ({ state: next, op: viewOp } = this.#sync.applyServer(received.op, this.#store.checked));
      if (this.#sync.pending === undefined) {
        // Nothing unacknowledged: the view is the server's document, and the listeners get the
        // op as the server sent it.
        view = server;
        viewOp = message.op;
      } else {
        // The new server copy plus the transformed own ops, built when read.
        view = undefined;
      }
    } catch (cause) {
      this.#violation(`the remote op at revision ${message.revision} does not apply: ${describe(cause)}`, cause);
      return;
    }
    this.#doc = { server, view, revision: message.revision };
    this.#setSync(next);
    this.#presence?.committed(message.revision, message.op);
    this.#presence?.viewChanged(viewOp);
    if (message.author !== undefined && message.seq !== undefined) this.#noteAuthorSeq(message.author, message.seq);
    this.#emit("remoteOp", { op: viewOp, revision: message.revision, author: message.author });
  }

  /**
   * The view of `doc`, which must be the current document with the current OT state: built
   * from the server's copy and the ops in flight and buffered when not held, and then kept.
   */
  #view(doc: KnownDocument): HeldDocument {
    if (doc.view !== undefined) return doc.view;
    const { pending, buffer } = this.#sync;
    let view = doc.server;
    if (pending !== undefined) view = this.#store.apply(view, pending.op);
    if (buffer !== undefined) view = this.#store.apply(view, buffer);
    this.#doc = { ...doc, view };
    return view;
  }

  #noteAuthorSeq(author: string, seq: number): void {
    const known = this.#authorSeqs.get(author);
    if (known !== undefined) {
      if (known.seq >= seq) return;
      known.seq = seq;
      known.rise = ++this.#authorSeqRises;
      return;
    }
    this.#authorSeqs.set(author, { seq, rise: ++this.#authorSeqRises });
    // Trimmed in bulk, so that the order of rises costs nothing per op.
    if (this.#authorSeqs.size >= 2 * MAX_RESTORE_AUTHORS) this.#trimAuthorSeqs(MAX_RESTORE_AUTHORS);
  }

  /** Keep the `limit` authors whose seq rose last, in the order of their rises. */
  #trimAuthorSeqs(limit: number): void {
    if (this.#authorSeqs.size <= limit) return;
    const newest = Array.from(this.#authorSeqs)
      .sort(([, a], [, b]) => a.rise - b.rise)
      .slice(-limit);
    this.#authorSeqs.clear();
    for (const [author, known] of newest) this.#authorSeqs.set(author, known);
  }

  #onError(message: ErrorMessage): void {
    if (message.docId !== undefined && message.docId !== this.docId) return;
    const error = this.#serverError(message);
    this.#report(error);
    if (message.seq === undefined) {
      // A refused join: an error about this document that names no op.
      if (this.#connection.status === "joining" && message.docId === this.docId) this.#onAnswer(message);
      return;
    }
    const pending = this.#sync.pending;
    // Errors about other seqs are about stale copies; while not live, the answer to the join
    // in progress decides, and a resent op that is refused again comes back while live.
    if (pending === undefined || message.seq !== pending.seq || this.#connection.status !== "live") return;
    if (errorClassOf(message.code) === "transient") {
      // The server's storage is down, it failed, or it asks to slow down: the same op can
      // succeed later. Wait, then rejoin from our revision (its ack may be in the replay: the
      // outcome of a commit that failed late is unknown) and resend it under the same seq.
      this.#wait(error, message.code, "op_refused", false);
      return;
    }
    const lostOnce = message.code === "bad_revision" && this.#badRevisionSeq !== message.seq;
    if (message.code === "bad_revision") this.#badRevisionSeq = message.seq;
    if (message.code === "resync_required" || lostOnce) {
      // Too old a base, or (bad_revision) a document behind the op: rejoin from our revision
      // and resend; the join tells a lost document apart. Should the history be gone, the
      // answer is a snapshot, and then no copy of the op based on an older revision can commit
      // any more, so resending the rebased edits under the same seq is safe (docs/protocol.md "Joining and resuming").
      void this.#join(this.#sendJoin, "op_refused", false);
      return;
    }
    if (!CONTENT_REFUSALS.has(message.code)) {
      // Not allowed (unauthorized, forbidden, not_found...): sending it again would be refused
      // again. Keep it pending and stop; the application decides (see `status.action`).
      this.#setConnection({ status: "refused", error }, error);
      return;
    }
    // The server says the op itself is wrong, so the client's picture of the document may be
    // wrong: start over from a snapshot, rebase the edits once more, and drop them if the
    // rebased op is refused for its content too.
    this.#requestResync("op_refused", error, this.#resentAfterRefusal === message.seq);
  }

  #violation(description: string, cause?: unknown): void {
    const error = new OTClientError("protocol_violation", `OTClient: ${description}; resyncing from a snapshot`, {
      docId: this.docId,
      cause,
    });
    this.#report(error);
    this.#requestResync("protocol_violation", error, false);
  }

  // ------------------------------------------------------------------ sending

  #sendOp(pending: PendingOp<Op>): void {
    // Not live: the op waits, and is sent after the answer to the join in progress.
    if (this.#connection.status !== "live") return;
    const message: OpMessage<Op> = {
      type: "op",
      docId: this.docId,
      clientId: this.clientId,
      seq: pending.seq,
      revision: this.#known("send").revision,
      op: pending.op,
    };
    const epoch = this.#epoch;
    this.#transport.send(message).catch((cause: unknown) => {
      if (epoch !== this.#epoch) return;
      const error = new OTClientError(
        "send_failed",
        `OTClient: could not send op seq ${pending.seq}: ${describe(cause)}; it stays pending and is resent after the next join`,
        { docId: this.docId, seq: pending.seq, cause },
      );
      this.#report(error);
      this.#sendFailed(error);
      this.#flush();
    });
  }

  // ------------------------------------------------------------------ state setters

  #setSync(next: ClientState<Op>): void {
    const previous = this.#sync;
    this.#sync = next;
    if (previous.name !== next.name) {
      this.#log("debug", `state ${previous.name} -> ${next.name}`);
      this.#emit("state", next.name);
    }
    const wasSynced = previous.pending === undefined;
    const synced = next.pending === undefined;
    if (wasSynced !== synced) this.#emit("synced", synced);
  }

  /**
   * The one setter of the connection lifecycle: checks {@link LEGAL}, releases what the state
   * left holds (a retry timer), publishes `connection` and `status`, and settles `connect()`
   * waiters on live, offline, refused and lost (unless a restore follows at once: `keepWaiters`).
   */
  #setConnection(next: Connection, error?: OTClientError, keepWaiters = false): void {
    const previous = this.#connection;
    if (!LEGAL[previous.status].includes(next.status)) {
      throw new Error(`OTClient: illegal connection transition ${previous.status} -> ${next.status} (a bug in the client)`);
    }
    if (previous.status === "waiting" && previous !== next) clearTimeout(previous.timer);
    this.#connection = next;
    if (next.status === "live") this.#retryAttempt = 0;
    if (previous.status !== next.status) {
      this.#log("debug", `connection ${previous.status} -> ${next.status}`);
      this.#emit("connection", next.status);
    }
    const status = this.#statusOf(next);
    if (
      status.state !== this.#status.state ||
      status.reason !== this.#status.reason ||
      next.status === "waiting" ||
      next.status === "lost"
    ) {
      this.#status = status;
      this.#emit("status", status);
    }
    if (keepWaiters) return;
    if (next.status === "live" || next.status === "offline" || next.status === "refused" || next.status === "lost") {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) {
        if (next.status === "live") waiter.resolve();
        else {
          waiter.reject(
            error ??
              new OTClientError("connection_lost", `OTClient: the connection ended before the join was answered`, {
                docId: this.docId,
              }),
          );
        }
      }
    }
  }

  #statusOf(connection: Connection): OTClientStatus {
    switch (connection.status) {
      case "offline":
        return { state: "offline", reason: "not connected: call connect()" };
      case "connecting":
        return { state: "connecting", reason: "connecting to the server" };
      case "live":
        return { state: "live", reason: "connected: edits are being saved" };
      case "joining":
        return connection.restoring
          ? { state: "joining", reason: "the server lost this document: offering this copy to recreate it", restoring: true }
          : { state: "joining", reason: "joining the document", restoring: false };
      case "waiting":
        return {
          state: "waiting",
          reason:
            WAITING_REASONS[connection.code] ??
            `the server refused for now (${connection.code}); edits are kept here and sent when it accepts`,
          code: connection.code,
          attempt: connection.attempt,
          nextRetryAt: connection.nextRetryAt,
        };
      case "refused":
        return {
          state: "refused",
          reason: connection.error.message,
          code: connection.error.code,
          action: refusalAction(connection.error.code),
        };
      case "lost":
        return { state: "lost", reason: connection.error.message, ...connection.lost };
    }
  }

  // ------------------------------------------------------------------ helpers

  #known(what: string): KnownDocument {
    if (this.#doc === undefined) {
      throw new Error(
        `OTClient: cannot ${what === "submit" || what === "send" || what === "receive" ? what : `read ${what}`} before the document is known; await connect() first, or pass snapshot and revision`,
      );
    }
    return this.#doc;
  }

  #serverError(message: ErrorMessage): OTClientError {
    return new OTClientError(message.code, `the server refused: ${message.message}`, {
      docId: message.docId,
      seq: message.seq,
    });
  }

  #report(error: OTClientError): void {
    this.#log("warn", error.message, { code: error.code, seq: error.seq });
    this.#emit("error", error);
  }

  /** Queue an event; it is emitted by {@link #flush} once the current action is complete. */
  #emit<K extends keyof OTClientEvents<Snapshot, Op>>(event: K, payload: OTClientEvents<Snapshot, Op>[K]): void {
    this.#queued.push(() => this.#emitter.emit(event, payload));
  }

  #flush(): void {
    // A listener may act on the client (submit...); its events join this same queue.
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (let next = this.#queued.shift(); next !== undefined; next = this.#queued.shift()) next();
    } finally {
      this.#flushing = false;
    }
  }

  #log(level: keyof OTClientLogger, message: string, context?: Record<string, unknown>): void {
    try {
      this.#logger?.[level]?.(message, { docId: this.docId, clientId: this.clientId, ...context });
    } catch {
      // A failing logger must not change what the client does.
    }
  }
}

/**
 * Refusals that mean the op (or the client's idea of the document) is wrong, not just late:
 * resync from a snapshot and rebase once. (`bad_revision` first rejoins: the document may have
 * been lost; only a second one for the same op counts as this.)
 */
const CONTENT_REFUSALS: ReadonlySet<string> = new Set(["invalid_op", "bad_revision", "bad_message", "too_large"]);

/** What a `waiting` status says, by transient code. */
const WAITING_REASONS: Partial<Record<ErrorCode, string>> = {
  unavailable: "the server cannot save right now (its storage is unreachable); edits are kept here and sent when it can",
  internal: "the server failed; edits are kept here and sent again shortly",
  rate_limited: "the server asked to slow down; edits are kept here and sent shortly",
};

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
