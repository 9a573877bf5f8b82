import { randomUUID } from "node:crypto";
import { checkNumberOption, CloseCode, DEFAULT_DOC_ID, isValidDocId, silentLogger, type Logger, type ProtocolError } from "@open-ot/core";
import type { IBackendAdapter, PubSub } from "./backend.js";
import { BackendGuard, type BackendHealth } from "./backend-guard.js";
import { ClientRegistry } from "./client-registry.js";
import type { DocumentSequencerOptions } from "./document-sequencer.js";
import { submitForClient, type ClientSubmit } from "./hub-submit.js";
import { ConnectionSession, type HubContext } from "./hub-session.js";
import type { ConnectOptions, HubConnection, HubSession } from "./hub-types.js";
import { observeBackend, observeGapRepairs } from "./metrics/observe-backend.js";
import { observeConnection, observeServer } from "./metrics/observe-hub.js";
import { tryReport, type ServerMetrics } from "./metrics/server-metrics.js";
import { isPresencePubSub } from "./presence/presence-pub-sub.js";
import { PresenceService, type PresenceOptions } from "./presence/presence-service.js";
import { SequencerPool } from "./sequencer-pool.js";
import type { Server } from "./server.js";

/** Options of {@link Hub}. */
export interface HubOptions {
  /** Commits the ops. */
  server: Server;
  /**
   * Where history is read from for replays and gap fills. @default server.backend (read
   * through `server.store`, with the server's deadlines)
   */
  backend?: IBackendAdapter;
  /**
   * Where the backend publishes its commits. @default the backend itself when it is a PubSub
   * (RedisAdapter), else its `pubsub` property (MemoryBackend)
   */
  pubsub?: PubSub;
  /** Create an empty document on the first valid `join` of an unknown one (else `not_found`). @default false */
  createOnJoin?: boolean;
  /**
   * With `createOnJoin`: the most documents this hub creates on join. Past it, a join of an
   * unknown document is refused with `not_found`, as on a server that does not create them.
   * Counted per hub (per process); an application that creates documents on join should set it
   * (or create documents through its own API instead). @default Infinity
   */
  maxCreatedDocuments?: number;
  /**
   * The most documents one connection may have joined at once; a join of one more is refused
   * with `too_large` (leave one first). Bounds what one connection makes the server hold.
   * @default 100
   */
  maxDocumentsPerConnection?: number;
  /** The document of root-path connections that name none (see {@link Hub.defaultDocId}). @default "doc-1" */
  defaultDocId?: string;
  /** The type of documents created on join; must be registered with the server. @default "text" */
  docType?: string;
  /** @default silent */
  logger?: Logger;
  /**
   * Messages waiting to be handled on one connection; more are refused with `rate_limited`.
   * Bounds the memory one client can make the hub hold. @default 1000
   */
  maxQueuedMessages?: number;
  /**
   * Live commits held per connection and document while its replay is read; past that they
   * are read from history instead. @default 10000
   */
  maxBufferedCommits?: number;
  /**
   * Frame pacing for connections that opted in to batching, in milliseconds: other clients'
   * ops due to a connection within this long of its previous frame wait and share its next
   * frame, so a busy document costs each connection at most one broadcast frame per
   * `frameHoldMs` instead of one per commit. Replies to the connection's own messages (`ack`,
   * `error`, `snapshot`, `joined`, `pong`) are never held, and a quiet document's ops go out at
   * once. 0: one frame per event-loop turn. Connections that did not opt in are not affected.
   * @default 4
   */
  frameHoldMs?: number;
  /** Tuning of the per-document sequencers. @default the sequencer's defaults */
  sequencer?: Pick<DocumentSequencerOptions, "lostNoticeDelayMs" | "retryDelayMs" | "maxRetryDelayMs">;
  /**
   * Presence (docs/protocol.md, "Presence"): grace, expiry, coalescing and size limit. Shared
   * across instances through the pub/sub when it has the presence methods (`InProcessPubSub`,
   * the Redis adapter). @default see {@link PresenceOptions}
   */
  presence?: PresenceOptions;
  /** Where to report connections, joins, refusals, deliveries and gap repairs (see `ServerMetrics`). @default server.metrics */
  metrics?: ServerMetrics;
}

/** See {@link HubOptions.frameHoldMs}. */
const DEFAULT_FRAME_HOLD_MS = 4;

/** RedisAdapter is its own pub/sub; MemoryBackend carries one in `pubsub`. */
function defaultPubSub(backend: IBackendAdapter): PubSub | undefined {
  if (isPubSub(backend)) return backend;
  const carried = (backend as { pubsub?: unknown }).pubsub;
  return isPubSub(carried) ? carried : undefined;
}

function isPubSub(value: unknown): value is PubSub {
  const candidate = value as Partial<PubSub> | null | undefined;
  return typeof candidate?.publish === "function" && typeof candidate.subscribe === "function";
}

/**
 * The transport-neutral heart of the server: bindings (WebSocket, SSE, in-process) hand it
 * connections, and it speaks the protocol on them.
 *
 * Each connection's messages are parsed with core's `parseClientFrame` and handled in order;
 * refusals are answered with `error` and change nothing. Joins get a snapshot or `joined` plus
 * the replay; ops go to {@link Server.submitOperation}; committed ops come back through the
 * document's sequencer (never straight from the submit), as `ack` to the submitting client and
 * `op` to everyone else, in revision order per connection. The sequencer takes a commit made on
 * this instance as its own notice, so it does not wait for the pub/sub round trip when it is
 * the next revision (see `DocumentSequencer.acceptLocal`).
 *
 * Lifecycle: `open -> closed`.
 */
export class Hub {
  /** The document of root-path connections that name none. */
  readonly defaultDocId: string;
  /** The sink this hub reports to; the bindings attached to it report there too. */
  readonly metrics: ServerMetrics | undefined;
  private readonly ctx: HubContext;
  private readonly pool: SequencerPool;
  private readonly guard: BackendGuard;
  private readonly clients: ClientRegistry;
  private readonly presence: PresenceService;
  private readonly unwatchPresence: (() => void) | undefined;
  private readonly sessions = new Set<ConnectionSession>();
  /** The transport of each session, for the connection counts of {@link metrics}. */
  private readonly transports = new WeakMap<ConnectionSession, string>();
  private state: "open" | "closed" = "open";

  constructor(options: HubOptions) {
    const { server } = options;
    const metrics = options.metrics ?? server.metrics;
    this.metrics = metrics;
    const raw = options.backend ?? server.backend;
    const rawPubSub = options.pubsub ?? defaultPubSub(raw);
    if (!rawPubSub) {
      throw new TypeError("Hub: no pub/sub to receive commits from; pass options.pubsub (the one your backend publishes to)");
    }
    this.defaultDocId = options.defaultDocId ?? DEFAULT_DOC_ID;
    if (!isValidDocId(this.defaultDocId)) {
      throw new TypeError(`Hub: defaultDocId must be 1 to 256 characters from [A-Za-z0-9._~:-], got ${JSON.stringify(this.defaultDocId)}`);
    }
    const docType = options.docType ?? "text";
    if (!server.getType(docType)) {
      throw new TypeError(`Hub: docType "${docType}" is not registered with the server; call server.registerType() first`);
    }
    const logger = options.logger ?? silentLogger;
    // Every store call of the hub has the server's deadline and health (a backend of its own
    // gets a guard of its own with the same deadline).
    this.guard = raw === server.backend ? server.guard : new BackendGuard(raw, { timeoutMs: server.guard.timeoutMs, logger });
    const guarded = raw === server.backend ? server.store : this.guard.backend;
    const backend = metrics === undefined || raw === server.backend ? guarded : observeBackend(guarded, metrics);
    const pubsub = this.guard.guardPubSub(rawPubSub);
    const maxCreated = checkNumberOption("Hub", "maxCreatedDocuments", options.maxCreatedDocuments ?? Infinity, {
      min: 0,
      integer: true,
      infinite: true,
    });
    let created = 0;
    this.pool = new SequencerPool({
      backend: metrics === undefined ? backend : observeGapRepairs(backend, metrics),
      pubsub,
      logger,
      ...(options.sequencer ? { sequencer: options.sequencer } : {}),
    });
    this.clients = new ClientRegistry(pubsub, randomUUID(), logger);
    // Unguarded: presence is best effort, and the guard knows only the commit channels.
    this.presence = new PresenceService(isPresencePubSub(rawPubSub) ? rawPubSub : undefined, logger, options.presence);
    const presence = this.presence;
    this.unwatchPresence = metrics?.watchPresenceEntries?.(() => presence.entryCount);
    this.ctx = {
      server: metrics === undefined ? server : observeServer(server, metrics),
      backend,
      pool: this.pool,
      createOnJoin: options.createOnJoin ?? false,
      creations: {
        take: () => (created < maxCreated ? (created++, true) : false),
        giveBack: () => {
          created--;
        },
      },
      maxDocumentsPerConnection: checkNumberOption(
        "Hub",
        "maxDocumentsPerConnection",
        options.maxDocumentsPerConnection ?? 100,
        POSITIVE_INTEGER,
      ),
      docType,
      logger,
      maxQueuedMessages: checkNumberOption("Hub", "maxQueuedMessages", options.maxQueuedMessages ?? 1000, POSITIVE_INTEGER),
      maxBufferedCommits: checkNumberOption("Hub", "maxBufferedCommits", options.maxBufferedCommits ?? 10_000, POSITIVE_INTEGER),
      frameHoldMs: checkNumberOption("Hub", "frameHoldMs", options.frameHoldMs ?? DEFAULT_FRAME_HOLD_MS, { min: 0 }),
      clients: this.clients,
      presence: this.presence,
      onSessionClosed: (session) => {
        if (this.sessions.delete(session) && metrics !== undefined)
          tryReport(() => metrics.connectionClosed?.(this.transports.get(session) ?? "unknown"));
      },
    };
  }

  /**
   * Start serving a connection. The binding then feeds it what arrives (`receive`) and tells it
   * when the connection is gone (`close`).
   */
  connect(connection: HubConnection, options: ConnectOptions = {}): HubSession {
    if (this.state === "closed") throw new Error("Hub: connect() after close()");
    const metrics = this.metrics;
    const session = new ConnectionSession(this.ctx, metrics === undefined ? connection : observeConnection(connection, metrics), options);
    this.sessions.add(session);
    if (metrics !== undefined) {
      const transport = options.transport ?? "unknown";
      this.transports.set(session, transport);
      tryReport(() => metrics.connectionOpened?.(transport));
    }
    return session;
  }

  /**
   * Commit an op for a client whose connection is elsewhere (an SSE session whose stream
   * another instance holds): exactly as an `op` on one of the client's connections would be
   * committed, with `(clientId, seq)` de-duplication and the clientId's principal binding.
   * Its `ack` reaches the client through the document's delivery path, wherever the client's
   * connection is. Resolves with the refusal (as the `error` its connection would have got), or
   * undefined when the op was committed or was a duplicate. The caller checks that the client
   * is the one it speaks for and has joined the document.
   */
  submit(request: ClientSubmit): Promise<ProtocolError | undefined> {
    if (this.state === "closed") return Promise.reject(new Error("Hub: submit() after close()"));
    return submitForClient(this.ctx, request);
  }

  /**
   * Whether the store answers: ask it now, within the deadline. For a `/healthz` route (200 when
   * `reachable`, 503 otherwise), so that a load balancer routes around an instance that cannot
   * reach its store. Connections stay open meanwhile; joins and ops are answered `unavailable`.
   */
  checkHealth(): Promise<BackendHealth> {
    return this.guard.check();
  }

  /** The store's health as last seen, without asking it. */
  get health(): BackendHealth {
    return this.guard.health;
  }

  /** The number of open sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The number of documents with a live subscription on this instance. */
  get documentCount(): number {
    return this.pool.size;
  }

  /**
   * Close every connection with 1001 (going away: clients reconnect, to another instance if
   * there is one) and unsubscribe. The server, backend and pub/sub stay open: they are yours.
   */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const session of [...this.sessions]) session.closeConnection(CloseCode.GOING_AWAY, "server shutting down");
    this.unwatchPresence?.();
    await Promise.all([this.pool.close(), this.clients.close(), this.presence.close()]);
    if (this.guard !== this.ctx.server.guard) this.guard.close();
  }
}

const POSITIVE_INTEGER = { min: 1, integer: true } as const;
