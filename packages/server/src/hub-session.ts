import {
  CloseCode,
  errorMessage,
  isValidClientId,
  isValidDocId,
  parseClientFrame,
  type ClientMessage,
  type ErrorCode,
  type JoinMessage,
  type LeaveMessage,
  type Logger,
  type OpMessage,
  type ParseResult,
  type ProtocolError,
  type RemoteOpMessage,
  type ServerMessage,
  type SnapshotMessage,
} from "@open-ot/core";
import {
  DocumentExistsError,
  DocumentNotFoundError,
  HistoryTrimmedError,
  isBackendUnavailable,
  type CommitNotice,
  type CommittedOp,
  type DocumentLineage,
  type IBackendAdapter,
} from "./backend.js";
import { authorLabel } from "./author-label.js";
import { judgeJoin } from "./join-lineage.js";
import type { ClientRegistry, RegisteredConnection } from "./client-registry.js";
import { DocumentFeed } from "./document-feed.js";
import type { ConnectOptions, HubConnection, HubSession } from "./hub-types.js";
import { clientKey, principalKey } from "./identity-keys.js";
import { OTError } from "./ot-error.js";
import { Outbox } from "./outbox.js";
import type { PresenceService, PresenceSubscriber } from "./presence/presence-service.js";
import type { SequencerPool } from "./sequencer-pool.js";
import type { Server, SubmitMeta } from "./server.js";

/** What every session of a hub shares. */
export interface HubContext {
  readonly server: Server;
  readonly backend: IBackendAdapter;
  readonly pool: SequencerPool;
  readonly createOnJoin: boolean;
  /** Documents this hub may still create on join (see {@link HubOptions.maxCreatedDocuments}). */
  readonly creations: { take(): boolean; giveBack(): void };
  /** See {@link HubOptions.maxDocumentsPerConnection}. */
  readonly maxDocumentsPerConnection: number;
  readonly docType: string;
  readonly logger: Logger;
  readonly maxQueuedMessages: number;
  readonly maxBufferedCommits: number;
  /** Frame pacing of batching connections (see {@link HubOptions.frameHoldMs}). */
  readonly frameHoldMs: number;
  /** Keeps one connection per client and document, on every instance. */
  readonly clients: ClientRegistry;
  /** Presence tables and fan-out (docs/protocol.md, "Presence"). */
  readonly presence: PresenceService;
  /** Called once when the session ends. */
  onSessionClosed(session: ConnectionSession): void;
}

/** One inbound message waiting its turn, with the raw value it was parsed from. */
type Work = { kind: "message"; result: ParseResult<ClientMessage>; raw: unknown } | { kind: "auto-join"; docId: string };

/** A marker that the rest of the handling must stop: the answer was already sent. */
class Refused extends Error {}

/**
 * Seq-table keys of the author seqs a restore copy carried: `@` is outside the clientId
 * alphabet (as `#` of internal ids is), so they never collide with a client's own entry.
 */
const RESTORED_AUTHOR_PREFIX = "@";

// Commit clientIds of connections that named none: `#` is outside the protocol's clientId
// alphabet, so they can never collide with a real client, and they are never sent on the wire.
const INTERNAL_ID_PREFIX = "#";

let sessionCounter = 0;

/** Close reason of a connection that a newer one of its client replaced (at most 123 bytes). */
const SUPERSEDED_REASON = "a newer connection of this client joined one of its documents";

/**
 * The hub's side of one connection: parses what arrives, handles it in order, and sends the
 * answers and the documents' commits through one {@link Outbox}.
 *
 * Lifecycle: `open -> closed` (by the binding, by the hub, or after a fatal feed error).
 */
export class ConnectionSession implements HubSession, RegisteredConnection {
  readonly id: string;
  /**
   * When the connection opened (epoch milliseconds, with sub-millisecond precision, from the
   * monotonic clock), and its number on this instance: newer connections of a client replace
   * older ones.
   */
  readonly openedAt = performance.timeOrigin + performance.now();
  readonly serial: number;
  /** The authenticated principal (see {@link ConnectOptions.principal}), for the binding's own use (logs, revocation). */
  readonly principal: string | undefined;
  /** Its digest: what the backend binds clientIds to, and what other instances compare. */
  readonly principalKey: string | undefined;
  /** Digest of the bound clientId (empty until one is bound), for the registry. */
  clientKey = "";
  private readonly internalId: string;
  private readonly connection: HubConnection;
  private readonly ctx: HubContext;
  private readonly outbox: Outbox;
  private readonly feeds = new Map<string, DocumentFeed>();
  /** The epoch each joined document was in when its join was answered (backends with epochs); ops carry it. */
  private readonly epochs = new Map<string, string>();
  private state: "open" | "closed" = "open";
  /** The client this connection speaks for, once an accepted join or op named it. */
  private clientId: string | undefined;
  /** The clientId an op in progress names, so its own ack is recognised before it binds. */
  private pendingClientId: string | undefined;
  private readonly queue: Work[] = [];
  /** The loop that works through {@link queue}; undefined when idle. */
  private draining: Promise<void> | undefined;
  /** How this connection receives presence. */
  private readonly presenceSink: PresenceSubscriber = { send: (message) => this.reply(message) };

  constructor(ctx: HubContext, connection: HubConnection, options: ConnectOptions) {
    sessionCounter += 1;
    this.serial = sessionCounter;
    this.id = `s${sessionCounter.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    this.internalId = `${INTERNAL_ID_PREFIX}${this.id}`;
    this.ctx = ctx;
    this.connection = connection;
    this.principal = options.principal;
    this.principalKey = options.principal === undefined ? undefined : principalKey(options.principal);
    this.outbox = new Outbox(connection, { batch: options.batch ?? false, holdMs: ctx.frameHoldMs, logger: ctx.logger });
    if (options.autoJoin !== undefined) this.enqueue({ kind: "auto-join", docId: options.autoJoin });
  }

  /** The clientId bound to this connection, if any. */
  get boundClientId(): string | undefined {
    return this.clientId;
  }

  /** The documents this connection receives. */
  get documents(): string[] {
    return [...this.feeds.keys()];
  }

  /**
   * The epoch `docId` was in when this connection's join of it was answered (backends with
   * epochs): an op committed for the connection elsewhere carries it (see `Hub.submit`).
   */
  epochOf(docId: string): string | undefined {
    return this.epochs.get(docId);
  }

  receives(docId: string): boolean {
    return this.feeds.has(docId);
  }

  supersede(): void {
    this.ctx.logger.debug?.("closing a connection replaced by a newer one of its client", { session: this.id });
    this.closeConnection(CloseCode.SUPERSEDED, SUPERSEDED_REASON);
  }

  receive(frame: unknown): void {
    if (this.state === "closed") return;
    let results: ParseResult<ClientMessage>[];
    let raws: unknown[];
    try {
      ({ results, raws } = parseFrame(frame));
    } catch (error) {
      this.ctx.logger.error?.("parsing a frame threw", { session: this.id, error });
      this.reply(errorMessage({ code: "internal", message: "The server failed to read the message." }));
      return;
    }
    results.forEach((result, index) => {
      if (result.ok && result.message.type === "ping") {
        // Answered at once, ahead of queued work: a heartbeat measures the connection, and
        // must not time out behind a slow commit.
        this.reply(result.message.t === undefined ? { type: "pong" } : { type: "pong", t: result.message.t });
        return;
      }
      if (this.queue.length >= this.ctx.maxQueuedMessages) {
        const refusal: ProtocolError = {
          code: "rate_limited",
          message: `More than ${this.ctx.maxQueuedMessages} messages are waiting on this connection: wait for answers before sending more.`,
        };
        const ids = this.identity(result);
        if (ids.docId !== undefined) refusal.docId = ids.docId;
        if (ids.seq !== undefined) refusal.seq = ids.seq;
        this.reply(errorMessage(refusal));
        return;
      }
      this.enqueue({ kind: "message", result, raw: raws[index] });
    });
  }

  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.queue.length = 0;
    for (const feed of this.feeds.values()) this.releaseFeed(feed);
    this.feeds.clear();
    this.ctx.presence.drop(this.presenceSink);
    this.outbox.close();
    if (this.clientKey !== "") this.ctx.clients.remove(this);
    this.ctx.onSessionClosed(this);
  }

  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Close the connection with a protocol close code, and the session with it. */
  closeConnection(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.outbox.flush();
    try {
      this.connection.close(code, reason);
    } catch (error) {
      this.ctx.logger.warn?.("connection.close threw", { session: this.id, error });
    }
    this.close();
  }

  // ------------------------------------------------------------------ queue

  private enqueue(work: Work): void {
    this.queue.push(work);
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.state === "open" && this.queue.length > 0) {
        const work = this.queue.shift() as Work;
        try {
          if (work.kind === "auto-join") await this.autoJoin(work.docId);
          else await this.handle(work.result, work.raw);
        } catch (error) {
          if (error instanceof Refused) continue;
          const ids = work.kind === "message" ? this.identity(work.result) : { docId: work.docId };
          if (error instanceof OTError) {
            // The server refused on purpose (a restore copy that is not a document of its type or
            // is too large, say): answer with its code, never as a failure the client retries.
            this.reply(errorMessage({ code: error.code, message: error.message, ...ids }));
            continue;
          }
          if (isBackendUnavailable(error)) {
            // The store is down or did not answer in time: a transient refusal, and the
            // connection and its documents stay as they are.
            this.ctx.logger.warn?.("the store could not serve a message", { session: this.id, error: error.message });
            this.reply(
              errorMessage({
                code: "unavailable",
                message: `The server's storage cannot be reached right now (${error.message}). Nothing was applied, or an op's outcome is unknown: send the same request again later (an op after rejoining with your revision, under the same seq).`,
                ...ids,
              }),
            );
            continue;
          }
          // A bug or a failing backend: answer `internal`, keep the connection and the document.
          this.ctx.logger.error?.("handling a message failed", { session: this.id, error });
          this.reply(
            errorMessage({
              code: "internal",
              message:
                "The server failed while handling this message. An op may or may not have been committed: rejoin with your revision and resend it with the same seq (de-duplication makes that safe).",
              ...ids,
            }),
          );
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async handle(result: ParseResult<ClientMessage>, raw: unknown): Promise<void> {
    if (!result.ok) {
      await this.refuseUnparsed(result.error, raw);
      return;
    }
    const message = result.message;
    switch (message.type) {
      case "join":
        await this.join(message);
        if (message.presence === true && !this.isClosed() && this.feeds.has(message.docId)) {
          this.ctx.presence.join(
            this.presenceSink,
            message.docId,
            authorLabel(message.docId, message.clientId ?? this.clientId ?? this.internalId),
          );
        }
        return;
      case "presence": {
        const refusal = this.ctx.presence.set(this.presenceSink, message.docId, message.state, this.principal);
        if (refusal !== undefined) this.refuse("too_large", refusal, { docId: message.docId });
        return;
      }
      case "op":
        await this.op(message);
        return;
      case "leave":
        this.leave(message);
        return;
      case "ping":
        return; // answered in receive()
    }
  }

  /**
   * A parse refusal. `bad_revision` loses to the checks the parser cannot make: the clientId
   * binding and the joined documents (`bad_message`), and the document's existence (`not_found`).
   */
  private async refuseUnparsed(error: ProtocolError, raw: unknown): Promise<void> {
    let answer = error;
    if (error.code === "bad_revision" && isObject(raw)) {
      if (raw["type"] === "op") {
        const docId = this.resolveJoined(error.docId, error.seq);
        this.checkClientId(raw["clientId"], docId, error.seq);
        answer = { ...error, docId };
      } else if (raw["type"] === "join") {
        this.checkClientId(raw["clientId"], error.docId);
        if (error.docId !== undefined && !this.ctx.createOnJoin) await this.requireDocument(error.docId);
      }
    }
    this.reply(errorMessage(answer));
  }

  // ------------------------------------------------------------------ join

  private async join(message: JoinMessage): Promise<void> {
    const { docId } = message;
    this.checkClientId(message.clientId, docId);
    if (!this.feeds.has(docId) && this.feeds.size >= this.ctx.maxDocumentsPerConnection) {
      this.refuse(
        "too_large",
        `This connection has joined ${this.feeds.size} documents, the most it may: leave one before joining "${docId}".`,
        { docId },
      );
    }
    const clientId = message.clientId ?? this.clientId;
    // Before the document is opened: a join refused as another principal's creates and
    // restores nothing.
    if (clientId !== undefined) await this.checkPrincipal(docId, clientId);
    const life = await this.openDocument(message);
    // Register for live commits before reading anything, so nothing falls in between.
    const feed = await this.openFeed(docId);
    let opening: { kind: "snapshot"; message: SnapshotMessage } | { kind: "joined"; revision: number; replay: CommittedOp[] };
    try {
      opening = await this.readOpening(docId, life.from, clientId, life.restored);
    } catch (error) {
      // A refused (failed) join changes nothing: the earlier join of this document holds.
      this.releaseFeed(feed);
      throw error;
    }
    if (this.isClosed()) {
      this.releaseFeed(feed);
      return;
    }
    // Accepted.
    if (message.clientId !== undefined) this.bindClient(message.clientId);
    if (message.batch === true) this.outbox.enableBatching();
    const previous = this.feeds.get(docId);
    this.feeds.set(docId, feed);
    if (previous) this.releaseFeed(previous);
    if (life.epoch === undefined) this.epochs.delete(docId);
    else this.epochs.set(docId, life.epoch);
    // One connection per client and document: an older one of this client is closed (or this
    // one, when it is the older).
    if (clientId !== undefined && !this.ctx.clients.joined(this, docId)) return;
    const author = clientId === undefined ? undefined : authorLabel(docId, clientId);
    const lineage = { ...(life.epoch === undefined ? {} : { epoch: life.epoch }), ...(author === undefined ? {} : { author }) };
    if (opening.kind === "snapshot") {
      this.reply({ ...opening.message, ...lineage });
      await this.startFeed(feed, opening.message.revision);
    } else {
      this.reply({ type: "joined", docId, revision: opening.revision, ...lineage });
      await this.startFeed(feed, opening.revision, opening.replay);
    }
  }

  /**
   * Judge the join against the document's lineage (see {@link judgeJoin}), creating or
   * restoring the document when it says so, and resolve with what to answer from: the epoch,
   * the revision to replay after (`undefined`: a snapshot), and whether the document was ever
   * restored (its snapshots then look up restored author seqs). Refuses (`not_found`,
   * `bad_revision` with `serverRevision`) otherwise.
   */
  private async openDocument(message: JoinMessage): Promise<{ epoch: string | undefined; from: number | undefined; restored: boolean }> {
    const { docId } = message;
    const store = this.ctx.backend;
    const canRestore = store.restoreDocument !== undefined && store.getLineage !== undefined;
    let mayRestore = message.restore !== undefined;
    // A create or a lost restore race changes what is there: look again (a few rounds at most).
    for (let round = 0; round < 4; round++) {
      const lineage = await this.readLineage(docId);
      const decision = judgeJoin(
        lineage,
        { revision: message.revision, epoch: message.epoch, restore: mayRestore },
        { createOnJoin: this.ctx.createOnJoin, canRestore },
      );
      switch (decision.kind) {
        case "not_found":
          return this.refuse("not_found", `Document "${docId}" does not exist, and this server does not create documents on join.`, {
            docId,
          });
        case "lost": {
          const where =
            decision.serverRevision === null
              ? "which does not exist (any more)"
              : `which is at revision ${decision.serverRevision}${message.epoch !== undefined && lineage?.epoch !== undefined && lineage.epoch !== message.epoch ? " of another life of it (it was created anew)" : ""}`;
          this.reply({
            type: "error",
            code: "bad_revision",
            message: `revision ${String(message.revision ?? "(none)")}${message.epoch === undefined ? "" : ` of epoch ${message.epoch}`} is ahead of document "${docId}", ${where}: the server lost commits. Keep your copy; join with "restore" to recreate the document from it (docs/protocol.md, "Lost documents and restore").`,
            docId,
            serverRevision: decision.serverRevision,
          });
          throw new Refused("lost document");
        }
        case "create":
          this.takeCreation(docId);
          try {
            await this.ctx.server.createDocument(docId, this.ctx.docType);
          } catch (createError) {
            this.ctx.creations.giveBack();
            // Another connection (or instance) created it first: that is the same outcome.
            if (!(createError instanceof DocumentExistsError || nameOf(createError) === "DocumentExistsError")) throw createError;
          }
          continue;
        case "restore": {
          mayRestore = false;
          const restore = message.restore!;
          const type = lineage === undefined ? this.ctx.docType : (await this.ctx.server.getDocument(docId)).type.name;
          const seqs: Record<string, number> = {};
          for (const [author, seq] of Object.entries(restore.seqs ?? {})) seqs[`${RESTORED_AUTHOR_PREFIX}${author}`] = seq;
          // Restoring a document that is gone creates one: it counts against the hub's cap.
          const creates = lineage === undefined;
          if (creates) this.takeCreation(docId);
          let result: Awaited<ReturnType<Server["restoreDocument"]>>;
          try {
            result = await this.ctx.server.restoreDocument(docId, {
              type,
              snapshot: restore.data,
              revision: message.revision!,
              ...(message.epoch === undefined ? {} : { fromEpoch: message.epoch }),
              seqs,
              ...(decision.ifEpoch === undefined ? {} : { ifEpoch: decision.ifEpoch }),
            });
          } catch (error) {
            if (creates) this.ctx.creations.giveBack();
            throw error;
          }
          if (result.status === "refused") {
            if (creates) this.ctx.creations.giveBack();
            continue; // another copy won: judge again, without restoring
          }
          this.ctx.logger.info?.("restored a lost document from a client's copy", { session: this.id, docId, revision: message.revision });
          // Every follower of the document's older life starts over (this session's own too).
          const own = this.feeds.get(docId);
          if (own !== undefined) {
            this.feeds.delete(docId);
            this.releaseFeed(own);
          }
          this.ctx.pool.reset(docId, `document "${docId}" was restored from a client's copy`);
          // The copy won: the client resumes from its own revision, in the new epoch.
          return { epoch: result.epoch, from: message.revision, restored: true };
        }
        case "open":
          // A restorer whose copy did not win gets a snapshot (to rebase onto), never `joined`:
          // `joined` in a new epoch tells the winner its copy won.
          return {
            epoch: lineage?.epoch,
            from: message.restore !== undefined ? undefined : decision.revision,
            restored: lineage?.restoredFrom !== undefined,
          };
      }
    }
    throw new Error(`the join of "${docId}" found the document changing under it four times in a row`);
  }

  /** Count one more document created on join, or refuse (`not_found`) when the hub created as many as it may. */
  private takeCreation(docId: string): void {
    if (!this.ctx.creations.take()) {
      this.refuse("not_found", `Document "${docId}" does not exist, and this server has created as many documents on join as it may.`, {
        docId,
      });
    }
  }

  /** The document's lineage (its epoch `undefined` on a backend without them), `undefined` when it does not exist. */
  private async readLineage(
    docId: string,
  ): Promise<DocumentLineage | { revision: number; epoch: undefined; restoredFrom?: undefined } | undefined> {
    const store = this.ctx.backend;
    try {
      if (store.getLineage !== undefined) return await store.getLineage(docId);
      return { revision: await store.getRevision(docId), epoch: undefined };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * `forbidden` when `clientId` is bound to another principal in `docId` (docs/protocol.md,
   * "Client ids are secrets"). Only authenticated connections ask: without a principal nothing
   * is bound, and an op of a connection without one is still refused by the commit itself.
   */
  private async checkPrincipal(docId: string, clientId: string): Promise<void> {
    const getPrincipal = this.ctx.backend.getClientPrincipal?.bind(this.ctx.backend);
    if (this.principalKey === undefined || getPrincipal === undefined) return;
    const bound = await getPrincipal(docId, clientId);
    if (bound !== undefined && bound !== this.principalKey) {
      this.refuse(
        "forbidden",
        `This clientId belongs to another user in document "${docId}": use a clientId of your own (a fresh random one per session).`,
        {
          docId,
        },
      );
    }
  }

  /** Bind this connection to `clientId` (once: a connection speaks for one client). */
  private bindClient(clientId: string): void {
    if (this.clientId !== undefined) return;
    this.clientId = clientId;
    this.clientKey = clientKey(clientId);
  }

  /**
   * What answers a join: `joined` with the ops after `revision`, or a snapshot (no revision,
   * or the ops after it are no longer kept).
   */
  private async readOpening(
    docId: string,
    revision: number | undefined,
    clientId: string | undefined,
    restored: boolean,
  ): Promise<{ kind: "snapshot"; message: SnapshotMessage } | { kind: "joined"; revision: number; replay: CommittedOp[] }> {
    if (revision !== undefined) {
      try {
        const replay = await this.ctx.backend.getOps(docId, revision + 1);
        return { kind: "joined", revision, replay };
      } catch (error) {
        if (!(error instanceof HistoryTrimmedError)) throw error;
        // Too old to replay: fall through to a snapshot.
      }
    }
    return { kind: "snapshot", message: await this.readSnapshot(docId, clientId, restored) };
  }

  /**
   * The snapshot, with the client's last committed seq as of the snapshot's revision. The
   * seq is read before the snapshot and completed from the ops in between, so it never
   * claims a commit the snapshot does not contain (the client would then drop an edit).
   *
   * In a restored document the copy's author seqs count too: an op whose ack its client never
   * got may be in the copy (the restoring client saw it), and resending it would apply it twice.
   */
  private async readSnapshot(docId: string, clientId: string | undefined, restored: boolean): Promise<SnapshotMessage> {
    let before = 0;
    let lastSeq: number | undefined;
    if (clientId !== undefined) {
      before = await this.ctx.backend.getRevision(docId);
      lastSeq = await this.ctx.backend.getLastSeq(docId, clientId);
      if (restored) {
        const inCopy = await this.ctx.backend.getLastSeq(docId, `${RESTORED_AUTHOR_PREFIX}${authorLabel(docId, clientId)}`);
        if (inCopy !== undefined && inCopy > (lastSeq ?? 0)) lastSeq = inCopy;
      }
    }
    const doc = await this.ctx.server.getDocument(docId);
    if (clientId !== undefined && doc.revision > before) {
      for (const op of await this.ctx.backend.getOps(docId, before + 1, doc.revision)) {
        if (op.clientId === clientId && op.seq !== undefined && op.seq > (lastSeq ?? 0)) lastSeq = op.seq;
      }
    }
    const message: SnapshotMessage = {
      type: "snapshot",
      docId,
      revision: doc.revision,
      data: doc.snapshot,
      docType: doc.type.name,
    };
    if (lastSeq !== undefined) message.lastSeq = lastSeq;
    return message;
  }

  /**
   * The document's current revision, creating it when the hub creates on join and the join is
   * otherwise valid (a join from revision 0 or with none).
   */
  private async documentRevision(docId: string, joinRevision?: number): Promise<number> {
    try {
      return await this.ctx.backend.getRevision(docId);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      if (!this.ctx.createOnJoin) {
        this.refuse("not_found", `Document "${docId}" does not exist, and this server does not create documents on join.`, { docId });
      }
      if (joinRevision !== undefined && joinRevision > 0) {
        this.refuse("bad_revision", `revision ${joinRevision} is ahead of document "${docId}", which does not exist yet.`, { docId });
      }
      if (!this.ctx.creations.take()) {
        this.refuse("not_found", `Document "${docId}" does not exist, and this server has created as many documents on join as it may.`, {
          docId,
        });
      }
      try {
        await this.ctx.server.createDocument(docId, this.ctx.docType);
      } catch (createError) {
        this.ctx.creations.giveBack();
        // Another connection (or instance) created it first: that is the same outcome.
        if (!(createError instanceof DocumentExistsError || nameOf(createError) === "DocumentExistsError")) throw createError;
      }
      return this.ctx.backend.getRevision(docId);
    }
  }

  private async requireDocument(docId: string): Promise<void> {
    try {
      await this.ctx.backend.getRevision(docId);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.refuse("not_found", `Document "${docId}" does not exist, and this server does not create documents on join.`, { docId });
    }
  }

  /** Root-path connections: joined at the current revision, nothing sent. */
  private async autoJoin(docId: string): Promise<void> {
    if (!isValidDocId(docId)) {
      this.closeConnection(CloseCode.POLICY_VIOLATION, "invalid docId");
      return;
    }
    try {
      await this.documentRevision(docId);
    } catch (error) {
      if (error instanceof Refused) {
        this.closeConnection(CloseCode.NOT_FOUND, `document "${docId}" not found`);
        return;
      }
      throw error;
    }
    const feed = await this.openFeed(docId);
    if (this.isClosed()) {
      this.releaseFeed(feed);
      return;
    }
    const revision = await this.ctx.backend.getRevision(docId);
    const previous = this.feeds.get(docId);
    this.feeds.set(docId, feed);
    if (previous) this.releaseFeed(previous);
    await this.startFeed(feed, revision);
  }

  private async openFeed(docId: string): Promise<DocumentFeed> {
    const sequencer = await this.ctx.pool.acquire(docId);
    return new DocumentFeed({
      docId,
      sequencer,
      backend: this.ctx.backend,
      maxBuffered: this.ctx.maxBufferedCommits,
      sink: {
        emit: (notice) => this.deliver(notice),
        fail: (reason, error) => {
          this.ctx.logger.warn?.("closing a connection whose document feed failed", { session: this.id, docId, reason, error });
          this.closeConnection(CloseCode.INTERNAL_ERROR, reason.slice(0, 120));
        },
      },
    });
  }

  private async startFeed(feed: DocumentFeed, revision: number, replay?: CommittedOp[]): Promise<void> {
    try {
      await feed.start(revision, replay);
    } catch {
      // The feed has already closed the connection (its sink's fail()).
      throw new Refused();
    }
  }

  private releaseFeed(feed: DocumentFeed): void {
    feed.close();
    this.ctx.pool.release(feed.docId, feed.sequencer);
  }

  // ------------------------------------------------------------------ op, leave

  private async op(message: OpMessage): Promise<void> {
    const seq = message.seq;
    const docId = this.resolveJoined(message.docId, seq);
    this.checkClientId(message.clientId, docId, seq);
    const named = message.clientId ?? this.clientId;
    if (message.clientId !== undefined && this.clientId === undefined) this.pendingClientId = message.clientId;
    try {
      // An op without a clientId, or without a seq, commits under the connection's internal id
      // (so its ack finds this connection) and without de-duplication: it identifies nothing
      // beyond this connection. Its ack must not reach the client's other connections either: an ack
      // without a seq would be taken there for the ack of their own op in flight. It carries the
      // epoch its connection joined, so that it never commits into another life of the document.
      const epoch = this.epochs.get(docId);
      const meta: SubmitMeta & { clientId: string } = {
        ...(named === undefined || seq === undefined
          ? { clientId: this.internalId }
          : { clientId: named, seq, ...(this.principalKey === undefined ? {} : { principal: this.principalKey }) }),
        ...(epoch === undefined ? {} : { epoch }),
      };
      const result = await this.ctx.server.submitOperation(docId, message.op, message.revision, meta);
      if (message.clientId !== undefined) this.bindClient(message.clientId);
      // A commit is its own notice on this instance: the sequencer delivers it (the ack, and
      // the op to this instance's other connections) without waiting for the pub/sub, in
      // revision order; the notice that arrives later is dropped as a repeat.
      // A duplicate gets no answer: its one ack went (or goes) out in order. Its first try may
      // have been answered with an error and its notice lost, so the sequencer checks history.
      if (result.duplicate !== true) this.ctx.pool.acceptLocal(committedNotice(docId, result, meta));
      else this.ctx.pool.noteDuplicate(docId, result.revision);
    } catch (error) {
      if (error instanceof OTError) {
        this.reply(error.toErrorMessage());
        throw new Refused();
      }
      throw error;
    } finally {
      this.pendingClientId = undefined;
    }
  }

  private leave(message: LeaveMessage): void {
    const feed = this.feeds.get(message.docId);
    if (!feed) return; // leaving what was not joined changes nothing
    this.feeds.delete(message.docId);
    this.epochs.delete(message.docId);
    this.releaseFeed(feed);
    this.ctx.presence.leave(this.presenceSink, message.docId);
  }

  // ------------------------------------------------------------------ checks and replies

  /** The joined document an op is for, or `bad_message`. */
  private resolveJoined(docId: string | undefined, seq: number | undefined): string {
    const ids = seq === undefined ? {} : { seq };
    if (docId !== undefined) {
      if (!this.feeds.has(docId)) {
        this.refuse("bad_message", `This connection has not joined document "${docId}": send a join for it first.`, { ...ids, docId });
      }
      return docId;
    }
    if (this.feeds.size === 1) return this.feeds.keys().next().value as string;
    this.refuse(
      "bad_message",
      this.feeds.size === 0
        ? "This connection has not joined any document: send a join first."
        : `This connection has joined ${this.feeds.size} documents: name the op's "docId".`,
      ids,
    );
  }

  /** `bad_message` when `clientId` is another than the one bound to this connection. */
  private checkClientId(clientId: unknown, docId?: string, seq?: number): void {
    if (!isValidClientId(clientId) || this.clientId === undefined || clientId === this.clientId) return;
    this.refuse("bad_message", `This connection speaks for client "${this.clientId}"; open another connection for client "${clientId}".`, {
      ...(docId === undefined ? {} : { docId }),
      ...(seq === undefined ? {} : { seq }),
    });
  }

  /**
   * The docId and seq to put on an error about this message, when it had valid ones; an op
   * that names no document is about the one document the connection has joined, if just one.
   */
  private identity(result: ParseResult<ClientMessage>): { docId?: string; seq?: number } {
    let docId: string | undefined;
    let seq: number | undefined;
    if (!result.ok) {
      ({ docId, seq } = result.error);
    } else if (result.message.type === "op") {
      ({ docId, seq } = result.message);
      if (docId === undefined && this.feeds.size === 1) docId = this.feeds.keys().next().value;
    } else if (result.message.type !== "ping") {
      docId = result.message.docId;
    }
    return { ...(docId === undefined ? {} : { docId }), ...(seq === undefined ? {} : { seq }) };
  }

  private refuse(code: ErrorCode, message: string, ids: { docId?: string; seq?: number } = {}): never {
    this.reply(errorMessage({ code, message, ...ids }));
    throw new Refused(message);
  }

  private reply(message: ServerMessage): void {
    if (this.state === "open") this.outbox.push(message);
  }

  /** A commit of a joined document: `ack` for this client's own ops, `op` for everyone else's. */
  private deliver(notice: CommitNotice): void {
    if (this.isOwn(notice.clientId)) {
      this.reply(
        notice.seq === undefined
          ? { type: "ack", docId: notice.docId, revision: notice.revision }
          : { type: "ack", docId: notice.docId, revision: notice.revision, seq: notice.seq },
      );
      return;
    }
    this.reply(remoteOpMessage(notice));
  }

  private isOwn(clientId: string | undefined): boolean {
    if (clientId === undefined) return false;
    return clientId === this.internalId || clientId === this.clientId || clientId === this.pendingClientId;
  }

  private isClosed(): boolean {
    return this.state === "closed";
  }
}

/**
 * The `op` message for a committed op, built once per commit notice and shared by every
 * connection it goes to: the sequencer hands all of them the same notice object, and the
 * bindings' `encodeMessage` (core) then serialises the shared message once per op instead of
 * once per recipient. Messages are never changed after they are built.
 *
 * The message is kept on the notice itself (a non-enumerable property), not in a `WeakMap`
 * keyed by notices, whose entries outlive young-generation GCs (docs/decisions/001).
 */
const REMOTE_OP_MESSAGE: unique symbol = Symbol("remote op message");

function remoteOpMessage(notice: CommitNotice & { [REMOTE_OP_MESSAGE]?: ServerMessage }): ServerMessage {
  const known = notice[REMOTE_OP_MESSAGE];
  if (known !== undefined) return known;
  const message: RemoteOpMessage = { type: "op", docId: notice.docId, op: notice.op, revision: notice.revision };
  // Others see an author label, never the clientId (a bearer secret); internal ids of clients
  // that named none stay on the server. The seq lets a restoring client say which ops its copy holds.
  if (isValidClientId(notice.clientId)) {
    message.author = authorLabel(notice.docId, notice.clientId);
    if (notice.seq !== undefined) message.seq = notice.seq;
  }
  if (Object.isExtensible(notice)) Object.defineProperty(notice, REMOTE_OP_MESSAGE, { value: message });
  return message;
}

/**
 * The notice of a commit this instance made: what the backend committed and published, that
 * is the op and revision `submitOperation` resolved with and the identity it was given (the
 * seq goes with a clientId only, as the Server commits it).
 */
function committedNotice(docId: string, result: { op: unknown; revision: number }, meta: { clientId: string; seq?: number }): CommitNotice {
  const notice: CommitNotice = { docId, revision: result.revision, op: result.op, clientId: meta.clientId };
  if (meta.seq !== undefined) notice.seq = meta.seq;
  return notice;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nameOf(error: unknown): unknown {
  return isObject(error) ? error["name"] : undefined;
}

function isNotFound(error: unknown): boolean {
  return error instanceof DocumentNotFoundError || nameOf(error) === "DocumentNotFoundError";
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parse a frame with core's `parseClientFrame`, keeping each element's raw value (the hub
 * needs a refused message's clientId and type to order its checks). Input that does not
 * decode is handed to the parser as is, so its refusal is worded in one place.
 */
function parseFrame(frame: unknown): { results: ParseResult<ClientMessage>[]; raws: unknown[] } {
  let value: unknown = frame;
  if (typeof frame === "string" || ArrayBuffer.isView(frame) || frame instanceof ArrayBuffer) {
    try {
      value = JSON.parse(typeof frame === "string" ? frame : utf8.decode(frame));
    } catch {
      const results = parseClientFrame(frame);
      return { results, raws: results.map(() => undefined) };
    }
  }
  // Hand the parser decoded values only: wrapping a single value in an array keeps a JSON
  // string from being decoded a second time.
  const raws = Array.isArray(value) ? value : [value];
  return { results: parseClientFrame(raws), raws };
}
