import { randomUUID } from "node:crypto";
import { keySlot } from "./key-slot.js";
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from "ioredis";
import { checkNumberOption, isValidSeq, TextType, type OTType } from "@open-ot/core";
import {
  CLIENT_NOTICE_CHANNEL,
  DocumentExistsError,
  DocumentNotFoundError,
  DocumentReplacedError,
  HistoryTrimmedError,
  type CommitBatchResult,
  isClientNotice,
  type ClientNotice,
  type CommitNotice,
  type CommitRequest,
  type CommitResult,
  type CommittedOp,
  type DocumentLineage,
  type DocumentRecord,
  type IBackendAdapter,
  type Logger,
  type PubSub,
  type PubSubListener,
  isPresenceNotice,
  type PresenceNotice,
  type PresencePubSub,
  type RestoreRequest,
  type RestoreResult,
} from "@open-ot/server";
import { documentKeys, type DocumentKeys } from "./document-keys.js";
import {
  COMMIT_BATCH_SCRIPT,
  COMMIT_SCRIPT,
  CREATE_ARGS,
  CREATE_SCRIPT,
  LOAD_ARGS,
  LOAD_SCRIPT,
  OP_ARGS,
  RANGE_ARGS,
  RANGE_SCRIPT,
  RESTORE_ARGS,
  RESTORE_SCRIPT,
  SHARED_COMMIT_ARGS,
} from "./lua-scripts.js";
import { ClusterSubscriber } from "./cluster-subscriber.js";
import { RedisSubscriber, type Subscriber } from "./redis-subscriber.js";
import { presenceChannel } from "./redis-presence.js";
import { isConnectionFailure, RedisUnavailableError } from "./redis-unavailable-error.js";
import { SnapshotCache, type CachedSnapshot } from "./snapshot-cache.js";

/** Options of {@link RedisAdapter}. */
export interface RedisAdapterOptions {
  /**
   * The OT types of the documents, by `name`. Loading a document applies the ops committed
   * after its last stored snapshot with its type, and `createDocument` refuses a type it does
   * not know.
   * @default [TextType]
   */
  types?: readonly OTType<unknown, unknown>[];
  /**
   * Store the document's snapshot with every N-th revision. Other commits send and store only
   * the op, so a commit costs the same however large the document grows; loading applies at
   * most N - 1 ops to the stored snapshot (fewer when this instance has the document cached).
   * @default 100
   */
  snapshotEvery?: number;
  /**
   * Keep at least this many of the latest ops in history (and always every op after the stored
   * snapshot, which loading needs); older ones are trimmed. A client rejoining from a trimmed
   * revision gets a snapshot instead of the ops it missed. `Infinity` keeps everything.
   * @default 1000
   */
  historyLimit?: number;
  /**
   * The most clients whose last `seq` a document remembers. When a commit pushes the count
   * past it, the clients that committed least recently are forgotten, down to 90% of the
   * limit. A forgotten client that resends an op committed long ago would have it committed
   * again, so keep this well above the number of clients a document sees between one
   * client's commit and its reconnect. `Infinity` never forgets (the table grows with every
   * client that ever committed).
   * @default 10000
   */
  maxClientsPerDocument?: number;
  /**
   * How many documents to keep rebuilt in memory, so that loading one reads only the ops
   * committed since. 0 disables the cache.
   * @default 1000
   */
  snapshotCacheSize?: number;
  /**
   * Fairness on a hot document shared by several instances. An instance whose commit to a
   * document lost the race four times in a row (the winner gets its reply, hence sends its next
   * commit, first, so it tends to win again) holds the next revision for this many
   * milliseconds: other instances' commits of it wait until the holder committed (or the time
   * ran out). Without it a loser could lose `maxCommitAttempts` times in a row and its submit
   * fail with `internal` (docs/decisions/006). 0 turns holding off; at most 1000.
   * @default 5
   */
  turnHoldMs?: number;
  /** Where connection problems and listener failures are reported. @default no logging */
  logger?: Logger;
  /**
   * ioredis `Cluster` options, when the adapter is given a list of seed nodes. Their
   * `redisOptions` apply to every node connection, the subscriber connections included.
   * @default {}
   */
  cluster?: ClusterOptions;
  /**
   * On a Redis Cluster: after a commit, wait until this many replicas of the document's master
   * have it (`WAIT`) before the commit counts as done, so that a failover to a replica keeps
   * every acknowledged op; a cluster without replicas needs 0. A commit not confirmed in
   * `replicaAckTimeoutMs` rejects with a {@link RedisUnavailableError} (it is applied on the
   * master: resending it with the same `(clientId, seq)` is safe). 0 turns waiting off: a
   * failover can then lose the last commits the old master acknowledged (see docs/deploying.md).
   * Ignored on one Redis.
   * @default 1
   */
  replicaAcks?: number;
  /** How long a commit waits for `replicaAcks` replicas, in milliseconds. @default 1000 */
  replicaAckTimeoutMs?: number;
}

/**
 * Where the adapter's data lives: a Redis URL or ioredis options for one Redis, or a Redis
 * Cluster: an ioredis `Cluster` (which the adapter then owns and quits on `close`) or the
 * cluster's seed nodes.
 */
export type RedisConnection = string | RedisOptions | Cluster | readonly ClusterNode[];

/**
 * ioredis options the adapter sets unless the caller does. `maxRetriesPerRequest: 1`: a command
 * issued while Redis is unreachable fails after two reconnect attempts instead of waiting
 * through twenty (the ioredis default); calls made while the connection is known to be down
 * fail at once without being sent (see `RedisAdapter.call`). The offline queue stays enabled so
 * calls made right after construction wait for the first connection. Auto-pipelining stays
 * off (ioredis's default): a commit is one script run, and a pipeline per command only deferred
 * each commit's write (docs/decisions/005). Pass `enableAutoPipelining: true` in the ioredis
 * options to turn it on.
 */
const CONNECTION_DEFAULTS: RedisOptions = { maxRetriesPerRequest: 1 };

type Script = (...args: (string | number)[]) => Promise<unknown>;

/**
 * Conflicts in a row after which a commit asks to hold the next revision (see `turnHoldMs`).
 * Not fewer: a waiting commit re-sends until the hold ends, so holding sooner costs more script
 * runs than it saves (docs/decisions/006).
 */
const LOSSES_BEFORE_HOLD = 3;
/**
 * Bound on re-sends of a commit whose revision another instance holds. A hold ends by Redis's
 * clock after `turnHoldMs`, so this is only a guard against a clock that does not advance.
 */
const MAX_TURN_WAITS = 100_000;
/** The scripts, as ioredis `defineCommand` adds them to the connection. */
interface ScriptCommands {
  otCreate: Script;
  otCommit: Script;
  otCommitBatch: Script;
  otLoad: Script;
  otRange: Script;
  otRestore: Script;
}

/**
 * Lifecycle of the adapter and its command connection (changed only in `setState`):
 * `connecting -> ready -> interrupted -> ready -> ...`, and from any state `closed`.
 * While `connecting` calls wait for the first connection; while `interrupted` they fail at once.
 */
type State = "connecting" | "ready" | "interrupted" | "closed";

function replyArray(reply: unknown, operation: string): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`RedisAdapter: unexpected reply to ${operation}: ${JSON.stringify(reply)}`);
  return reply;
}

function replyString(value: unknown, operation: string): string {
  if (typeof value !== "string") throw new Error(`RedisAdapter: unexpected value in the reply to ${operation}: ${JSON.stringify(value)}`);
  return value;
}

function decodeEntry(entry: unknown): CommittedOp {
  const parsed: unknown = JSON.parse(replyString(entry, "a history read"));
  if (typeof parsed !== "object" || parsed === null || typeof (parsed as CommittedOp).revision !== "number") {
    throw new Error(`RedisAdapter: corrupt history entry ${String(entry).slice(0, 200)}`);
  }
  return parsed as CommittedOp;
}

function checkRevision(value: unknown, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${what} must be an integer of at least ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Longest clientId stored. Not the protocol's 64: the server's hub also commits for connections
 * that named no clientId, under ids of its own outside the protocol's alphabet. Redis stores any
 * string as a hash field; the bound only keeps a runaway caller from filling memory.
 */
const MAX_STORED_CLIENT_ID_LENGTH = 1024;

function checkClientId(clientId: unknown, where: string): string {
  if (typeof clientId !== "string" || clientId.length === 0 || clientId.length > MAX_STORED_CLIENT_ID_LENGTH) {
    throw new TypeError(
      `${where}: clientId must be a string of 1 to ${MAX_STORED_CLIENT_ID_LENGTH} characters, got ${JSON.stringify(clientId)}`,
    );
  }
  return clientId;
}

/**
 * The cache entry for a committed request. A snapshot accessor (the Server passes one for text
 * documents: it builds the whole string when read) is read only when the entry is used, so
 * commits that are not followed by a load never build it; a plain value is taken now.
 */
function cachedSnapshot(nonce: string, revision: number, request: { snapshot?: unknown }): CachedSnapshot {
  if (Object.getOwnPropertyDescriptor(request, "snapshot")?.get === undefined) return { nonce, revision, data: request.snapshot };
  // One shared getter, not an object literal with its own: a new closure per commit made a new
  // hidden class per commit, kept in V8's old generation with the commit's document and ops
  // reachable from it (docs/decisions/002).
  const entry = { nonce, revision } as CachedSnapshot;
  Object.defineProperty(entry, DEFERRED_REQUEST, { value: request });
  Object.defineProperty(entry, "data", DEFERRED_DATA_ACCESSOR);
  return entry;
}

/** Where a cache entry keeps the request whose snapshot its `data` accessor reads (not enumerable). */
const DEFERRED_REQUEST: unique symbol = Symbol("deferred request");

/** The `data` accessor of every cache entry taken from a snapshot accessor: the same getter each time. */
const DEFERRED_DATA_ACCESSOR: PropertyDescriptor = {
  get(this: { [DEFERRED_REQUEST]: { snapshot?: unknown } }): unknown {
    return this[DEFERRED_REQUEST].snapshot;
  },
  enumerable: true,
  configurable: true,
};

/** Longest principal stored (the hub passes a short digest; the bound keeps a runaway caller from filling memory). */
const MAX_STORED_PRINCIPAL_LENGTH = 1024;

function checkPrincipal(principal: unknown): void {
  if (typeof principal !== "string" || principal.length === 0 || principal.length > MAX_STORED_PRINCIPAL_LENGTH) {
    throw new TypeError(
      `commit: principal must be a string of 1 to ${MAX_STORED_PRINCIPAL_LENGTH} characters, got ${JSON.stringify(principal)}`,
    );
  }
}

/** The `maxSeqJump` argument of the commit scripts: the largest seq jump allowed, or "" for none. */
function seqJumpArg(maxSeqJump: number | undefined): string {
  if (maxSeqJump === undefined) return "";
  if (!Number.isSafeInteger(maxSeqJump) || maxSeqJump < 1)
    throw new TypeError(`commit: maxSeqJump must be a positive integer, got ${String(maxSeqJump)}`);
  return String(maxSeqJump);
}

/** The values of {@link OP_ARGS}. */
type OpArgs = Parameters<typeof OP_ARGS.encode>[0];
/** The values of {@link SHARED_COMMIT_ARGS}. */
type SharedCommitArgs = Parameters<typeof SHARED_COMMIT_ARGS.encode>[0];

/** A count option where Infinity means "no limit". */
const LIMIT = { min: 0, integer: true, infinite: true } as const;

/**
 * The Redis backend and pub/sub of @open-ot/server, on ioredis.
 *
 * Every commit runs as one Lua script that checks the revision and the `(clientId, seq)`,
 * appends the op, stores the snapshot when due, trims history and publishes the committed op on
 * the document's channel, so nothing is ever half-committed and publication order is revision
 * order. Several server instances sharing one Redis each use their own `RedisAdapter`.
 *
 * Two connections: one for commands and a dedicated subscriber connection, opened on the first
 * `subscribe`. While Redis is unreachable, calls reject with {@link RedisUnavailableError}.
 *
 * @example
 * ```ts
 * const adapter = new RedisAdapter("redis://127.0.0.1:6379");
 * const server = new Server(adapter);
 * ```
 */
export class RedisAdapter implements IBackendAdapter, PubSub, PresencePubSub {
  private state: State = "connecting";
  private closing: Promise<void> | undefined;
  private readonly redis: Redis | Cluster;
  /** The same connection as `redis` when it is a cluster. */
  private readonly cluster: Cluster | undefined;
  /** "1" on a cluster: the scripts publish with SPUBLISH (sharded pub/sub). */
  private readonly sharded: "1" | undefined;
  private readonly replicaAcks: number;
  private readonly replicaAckTimeoutMs: number;
  private readonly scripts: ScriptCommands;
  private readonly subscriber: Subscriber;
  private readonly types: ReadonlyMap<string, OTType<unknown, unknown>>;
  private readonly cache: SnapshotCache;
  private readonly snapshotEvery: number;
  private readonly historyLimit: number;
  private readonly maxClients: number;
  private readonly turnHoldMs: number;
  /** Identifies this adapter's holds on a revision (see `turnHoldMs`). */
  private readonly callerId = randomUUID();
  /** Conflicts in a row of the latest commits per document; a document with none is absent. */
  private readonly lostRaces = new Map<string, number>();
  private readonly logger: Logger;
  /** host:port of Redis, for error messages (never the credentials of a URL). */
  private readonly where: string;

  /**
   * @param connection A Redis URL (`redis://[:password@]host:port[/db]`) or ioredis options;
   * or for a Redis Cluster an ioredis `Cluster` or a list of seed nodes (see {@link RedisConnection}).
   * @default "redis://127.0.0.1:6379"
   */
  constructor(connection: RedisConnection = "redis://127.0.0.1:6379", options: RedisAdapterOptions = {}) {
    this.snapshotEvery = checkNumberOption("RedisAdapter", "snapshotEvery", options.snapshotEvery ?? 100, { min: 1, integer: true });
    this.historyLimit = checkNumberOption("RedisAdapter", "historyLimit", options.historyLimit ?? 1000, LIMIT);
    this.maxClients = checkNumberOption("RedisAdapter", "maxClientsPerDocument", options.maxClientsPerDocument ?? 10_000, {
      ...LIMIT,
      min: 1,
    });
    this.turnHoldMs = checkNumberOption("RedisAdapter", "turnHoldMs", options.turnHoldMs ?? 5, { min: 0, max: 1000, integer: true });
    this.cache = new SnapshotCache(checkNumberOption("RedisAdapter", "snapshotCacheSize", options.snapshotCacheSize ?? 1000, LIMIT));
    this.logger = options.logger ?? {};
    this.types = new Map((options.types ?? [TextType as OTType<unknown, unknown>]).map((type) => [type.name, type]));

    this.replicaAcks = checkNumberOption("RedisAdapter", "replicaAcks", options.replicaAcks ?? 1, { min: 0, integer: true });
    this.replicaAckTimeoutMs = checkNumberOption("RedisAdapter", "replicaAckTimeoutMs", options.replicaAckTimeoutMs ?? 1000, {
      min: 1,
      integer: true,
    });

    if (connection instanceof Cluster || Array.isArray(connection)) {
      const cluster =
        connection instanceof Cluster
          ? connection
          : new Cluster([...(connection as readonly ClusterNode[])], {
              ...options.cluster,
              redisOptions: { ...CONNECTION_DEFAULTS, ...options.cluster?.redisOptions },
            });
      this.redis = cluster;
      this.cluster = cluster;
      this.sharded = "1";
      this.where = "the Redis Cluster";
    } else {
      const redis =
        typeof connection === "string"
          ? new Redis(connection, CONNECTION_DEFAULTS)
          : new Redis({ ...CONNECTION_DEFAULTS, ...(connection as RedisOptions) });
      this.redis = redis;
      this.cluster = undefined;
      this.sharded = undefined;
      this.where = `${redis.options.host ?? "127.0.0.1"}:${redis.options.port ?? 6379}`;
    }
    // Without an "error" listener ioredis prints to the console; the library never does.
    this.redis.on("error", (error: Error) => {
      this.logger.warn?.("RedisAdapter connection error", { where: this.where, error: error.message });
    });
    this.redis.on("ready", () => {
      if (this.state === "interrupted") {
        // Redis may have restarted from an older dump or failed over to a replica that lags:
        // the same document could now have another history after a revision we cached.
        this.cache.clear();
      }
      if (this.state !== "closed") this.setState("ready");
    });
    this.redis.on("close", () => {
      if (this.state === "ready") this.setState("interrupted");
    });
    if (this.cluster !== undefined) {
      const cluster = this.cluster;
      let masters = "";
      cluster.on("refresh", () => {
        // A new master (a failover) may lack the last writes of the old one: drop what we cached.
        const now = cluster
          .nodes("master")
          .map((node) => `${node.options.host}:${node.options.port}`)
          .sort()
          .join(",");
        if (masters !== "" && now !== masters) this.cache.clear();
        masters = now;
      });
    }
    this.redis.defineCommand("otCreate", CREATE_SCRIPT);
    this.redis.defineCommand("otCommit", COMMIT_SCRIPT);
    this.redis.defineCommand("otCommitBatch", COMMIT_BATCH_SCRIPT);
    this.redis.defineCommand("otLoad", LOAD_SCRIPT);
    this.redis.defineCommand("otRange", RANGE_SCRIPT);
    this.redis.defineCommand("otRestore", RESTORE_SCRIPT);
    this.scripts = this.redis as unknown as ScriptCommands;
    // No ready check on a subscriber connection: its INFO can reach Redis after a SUBSCRIBE and
    // is then refused ("only (P|S)SUBSCRIBE ... allowed in this context"), which made ioredis
    // drop the connection together with the subscriptions it had just confirmed.
    const subscriberOptions = { autoResubscribe: false, enableReadyCheck: false } as const;
    const cluster = this.cluster;
    if (cluster === undefined) {
      const redis = this.redis as Redis;
      this.subscriber = new RedisSubscriber(() => redis.duplicate(subscriberOptions), this.where, this.logger);
    } else {
      this.subscriber = new ClusterSubscriber(
        cluster,
        (host, port) => new Redis({ ...CONNECTION_DEFAULTS, ...cluster.options.redisOptions, ...subscriberOptions, host, port }),
        // Document channels (`ot:{docId}:ops`, `ot:{docId}:presence`) are sharded like the document's keys; client notices go to every node.
        (channel) => channel !== CLIENT_NOTICE_CHANNEL,
        this.logger,
      );
    }
  }

  // ------------------------------------------------------------------ IBackendAdapter

  /**
   * Create a document at revision 0 with `snapshot` (or the type's empty document when
   * `snapshot` is undefined). Rejects with {@link DocumentExistsError} if it exists, and with a
   * TypeError for a type not given in the `types` option.
   */
  async createDocument(docId: string, type: string, snapshot?: unknown): Promise<void> {
    const keys = documentKeys(docId);
    const otType = this.requireType(type, docId);
    const data = snapshot === undefined ? otType.create() : snapshot;
    const nonce = randomUUID();
    const created = await this.call("createDocument", false, () =>
      this.scripts.otCreate(
        keys.doc,
        keys.history,
        keys.seqs,
        keys.owners,
        ...CREATE_ARGS.encode({ type, snapshot: this.encode(data, "snapshot"), nonce }),
      ),
    );
    if (created !== 1) throw new DocumentExistsError(docId);
    await this.confirmReplicated("createDocument", keys.doc);
    this.cache.set(docId, { nonce, revision: 0, data });
  }

  /** The current document `{ type, v, data }`, or rejects with {@link DocumentNotFoundError}. */
  async getRecord(docId: string): Promise<DocumentRecord> {
    const keys = documentKeys(docId);
    const cached = this.cache.get(docId);
    const reply = replyArray(
      await this.call("getRecord", false, () =>
        this.scripts.otLoad(
          keys.doc,
          keys.history,
          ...LOAD_ARGS.encode({ cachedRevision: cached?.revision ?? -1, cachedNonce: cached?.nonce }),
        ),
      ),
      "getRecord",
    );
    const mode = reply[0];
    if (mode === "missing") throw new DocumentNotFoundError(docId);
    const type = replyString(reply[1], "getRecord");
    const v = Number(replyString(reply[2], "getRecord"));
    const nonce = replyString(reply[3], "getRecord");
    let data: unknown;
    let entries: unknown[];
    if (mode === "cached" && cached !== undefined) {
      data = cached.data;
      entries = replyArray(reply[4], "getRecord");
    } else {
      data = JSON.parse(replyString(reply[6], "getRecord")) as unknown;
      entries = replyArray(reply[5], "getRecord");
    }
    if (entries.length > 0) {
      const otType = this.requireType(type, docId);
      for (const entry of entries) data = otType.apply(data, decodeEntry(entry).op);
    }
    this.cache.set(docId, { nonce, revision: v, data });
    return { type, v, data };
  }

  /**
   * The ops that produced revisions `start + 1 .. end` (published shape: `start` is an inclusive
   * index, `end` exclusive, clamped to the current revision). Rejects with
   * {@link HistoryTrimmedError} when a requested op is no longer kept.
   */
  async getHistory(docId: string, start: number, end?: number): Promise<unknown[]> {
    checkRevision(start, "getHistory: start", -Infinity);
    const ops = await this.getOps(docId, start + 1, end);
    return ops.map((committed) => committed.op);
  }

  /**
   * Legacy published API: append `op` as revision `newRevision`, which must be the current
   * revision + 1, without de-duplication. Rejects if the document moved on. Prefer `commit`.
   */
  async saveOperation(docId: string, op: unknown, newRevision: number): Promise<void> {
    checkRevision(newRevision, "saveOperation: newRevision", 1);
    let snapshot: string | undefined;
    if (this.snapshotDue(newRevision)) {
      // The legacy call carries no snapshot: build it when one is due.
      const record = await this.getRecord(docId);
      if (record.v !== newRevision - 1) throw this.saveConflict(docId, record.v, newRevision);
      snapshot = this.encode(this.requireType(record.type, docId).apply(record.data, op), "snapshot");
    }
    const result = await this.runCommit(docId, { revision: newRevision, op }, snapshot);
    if (result.status === "conflict") throw this.saveConflict(docId, result.current, newRevision);
  }

  /**
   * `commit` honours {@link CommitRequest.base}: the kept-history check of a submit runs inside
   * the commit script, so the server need not ask {@link getOldestKeptRevision} first.
   */
  readonly checksKeptHistory = true;

  /**
   * Commit one op atomically (see {@link IBackendAdapter.commit}). The snapshot is sent to
   * Redis only on revisions that are multiples of `snapshotEvery`. A conflict carries the ops
   * committed since `request.revision - 1` when they are still kept (read in the same script).
   *
   * A commit that rejects with {@link RedisUnavailableError} after it was sent may have been
   * applied: resend it with the same `(clientId, seq)` and it comes back as `duplicate`.
   */
  async commit(docId: string, request: CommitRequest): Promise<CommitResult> {
    checkRevision(request.revision, "commit: request.revision", 1);
    const snapshot = this.snapshotDue(request.revision) ? this.encode(request.snapshot, "request.snapshot") : undefined;
    const result = await this.runCommit(docId, request, snapshot);
    return result;
  }

  /**
   * Commit several ops atomically, in order, in one script run (see
   * {@link IBackendAdapter.commitBatch}): each is checked and committed as `commit` would, and
   * the run stops at the first that is not committed. Like `commit`, a run that rejects with
   * {@link RedisUnavailableError} after it was sent may have committed some of them.
   */
  async commitBatch(docId: string, requests: CommitRequest[]): Promise<CommitBatchResult> {
    if (requests.length === 0) return { committed: [] };
    const keys: DocumentKeys = documentKeys(docId);
    const args: string[] = [];
    const epoch = requests[0]!.epoch;
    const maxSeqJump = requests[0]!.maxSeqJump;
    for (const [i, request] of requests.entries()) {
      checkRevision(request.revision, "commitBatch: request.revision", 1);
      if (i > 0 && request.revision !== requests[i - 1]!.revision + 1) {
        throw new TypeError("commitBatch: the requests' revisions must be consecutive");
      }
      if (request.epoch !== epoch) throw new TypeError("commitBatch: every request must expect the same epoch");
      if (request.maxSeqJump !== maxSeqJump) throw new TypeError("commitBatch: the requests must have the same maxSeqJump");
      const snapshot = this.snapshotDue(request.revision) ? this.encode(request.snapshot, "request.snapshot") : undefined;
      args.push(...OP_ARGS.encode(this.commitArgs(request, snapshot)));
    }
    const { reply: replies, lost } = await this.sendCommit("commitBatch", docId, requests[0]!.revision, (hold) =>
      this.call("commitBatch", true, () =>
        this.scripts.otCommitBatch(
          keys.doc,
          keys.history,
          keys.seqs,
          keys.owners,
          ...SHARED_COMMIT_ARGS.encode(this.sharedCommitArgs(docId, keys, { epoch, hold, maxSeqJump })),
          ...args,
        ),
      ),
    );
    const committed: number[] = [];
    let stop: CommitBatchResult["stop"];
    let lastCommitted: unknown[] | undefined;
    for (const item of replies) {
      const reply = replyArray(item, "commitBatch");
      const request = requests[committed.length]!;
      if (reply[0] === "committed") {
        committed.push(request.revision);
        lastCommitted = reply;
        continue;
      }
      if (reply[0] === "trimmed") {
        stop = { status: "trimmed", oldestKept: Number(reply[1]) };
      } else {
        const result = this.commitReply(docId, reply, lost, request);
        if (result.status === "committed") throw new Error(`RedisAdapter: unexpected reply to commitBatch: ${JSON.stringify(reply)}`);
        stop = result;
      }
      break;
    }
    if (lastCommitted !== undefined) await this.confirmReplicated("commitBatch", keys.doc);
    // Only the last committed op's document is worth caching: the earlier ones are behind it.
    if (lastCommitted !== undefined) this.commitReply(docId, lastCommitted, lost, requests[committed.length - 1]!);
    return stop === undefined ? { committed } : { committed, stop };
  }

  /**
   * Committed ops with revisions `from .. to` inclusive (`to` defaults to and is clamped to the
   * current revision; `from` below 1 counts as 1). Rejects with {@link HistoryTrimmedError} when
   * `from` is older than the oldest kept revision.
   */
  async getOps(docId: string, from: number, to?: number): Promise<CommittedOp[]> {
    const keys = documentKeys(docId);
    checkRevision(from, "getOps: from", -Infinity);
    if (to !== undefined) checkRevision(to, "getOps: to", -Infinity);
    const reply = replyArray(
      await this.call("getOps", false, () => this.scripts.otRange(keys.doc, keys.history, ...RANGE_ARGS.encode({ from, to }))),
      "getOps",
    );
    if (reply[0] === "missing") throw new DocumentNotFoundError(docId);
    if (reply[0] === "trimmed") throw new HistoryTrimmedError(docId, Math.max(from, 1), Number(reply[1]));
    return replyArray(reply[1], "getOps").map(decodeEntry);
  }

  /** The oldest revision whose op is still kept; the current revision + 1 when none is. */
  async getOldestKeptRevision(docId: string): Promise<number> {
    const keys = documentKeys(docId);
    const [v, oldest] = await this.call("getOldestKeptRevision", false, () => this.redis.hmget(keys.doc, "v", "oldest"));
    if (v === null || v === undefined || oldest === null || oldest === undefined) throw new DocumentNotFoundError(docId);
    return Number(oldest);
  }

  /** The last committed `seq` of `clientId` in the document, if it is remembered (see `maxClientsPerDocument`). */
  async getLastSeq(docId: string, clientId: string): Promise<number | undefined> {
    const keys = documentKeys(docId);
    checkClientId(clientId, "getLastSeq");
    const value = await this.call("getLastSeq", false, () => this.redis.hget(keys.seqs, clientId));
    if (value === null) return undefined;
    return Number(value.slice(0, value.indexOf(":")));
  }

  /** The principal `clientId` is bound to in the document, if any (and while its seq is remembered, see `maxClientsPerDocument`). */
  async getClientPrincipal(docId: string, clientId: string): Promise<string | undefined> {
    const keys = documentKeys(docId);
    checkClientId(clientId, "getClientPrincipal");
    const value = await this.call("getClientPrincipal", false, () => this.redis.hget(keys.owners, clientId));
    return value ?? undefined;
  }

  /** The current revision, or rejects with {@link DocumentNotFoundError}. */
  async getRevision(docId: string): Promise<number> {
    const keys = documentKeys(docId);
    const v = await this.call("getRevision", false, () => this.redis.hget(keys.doc, "v"));
    if (v === null) throw new DocumentNotFoundError(docId);
    return Number(v);
  }

  /** The document's revision and epoch (its nonce), and what it was restored from, in one read. */
  async getLineage(docId: string): Promise<DocumentLineage> {
    const keys = documentKeys(docId);
    const [v, nonce, rrev, rfrom] = await this.call("getLineage", false, () => this.redis.hmget(keys.doc, "v", "nonce", "rrev", "rfrom"));
    if (v === null || v === undefined || nonce === null || nonce === undefined) throw new DocumentNotFoundError(docId);
    const lineage: DocumentLineage = { revision: Number(v), epoch: nonce };
    if (rrev !== null && rrev !== undefined) {
      lineage.restoredFrom = rfrom === null || rfrom === undefined ? { revision: Number(rrev) } : { epoch: rfrom, revision: Number(rrev) };
    }
    return lineage;
  }

  /**
   * Recreate a lost document from a client's copy in one script run (see
   * {@link IBackendAdapter.restoreDocument}); publishes the restore notice on the document's
   * channel. Of many concurrent restores exactly one is answered `restored`.
   */
  async restoreDocument(docId: string, request: RestoreRequest): Promise<RestoreResult> {
    const keys = documentKeys(docId);
    checkRevision(request.revision, "restoreDocument: request.revision", 0);
    this.requireType(request.type, docId);
    const nonce = randomUUID();
    const seqArgs: string[] = [];
    for (const [key, seq] of Object.entries(request.seqs ?? {})) {
      checkClientId(key, "restoreDocument");
      if (!isValidSeq(seq)) throw new TypeError(`restoreDocument: seqs must be positive safe integers, got ${String(seq)} for ${key}`);
      seqArgs.push(key, String(seq));
    }
    const notice = this.encode({ docId, revision: request.revision, op: null, restored: nonce }, "notice");
    const restored = await this.call("restoreDocument", true, () =>
      this.scripts.otRestore(
        keys.doc,
        keys.history,
        keys.seqs,
        keys.owners,
        ...RESTORE_ARGS.encode({
          type: request.type,
          snapshot: this.encode(request.snapshot, "snapshot"),
          revision: request.revision,
          nonce,
          fromEpoch: request.fromEpoch,
          ifEpoch: request.ifEpoch,
          channel: keys.channel,
          notice,
          sharded: this.sharded,
        }),
        ...seqArgs,
      ),
    );
    if (restored !== 1) return { status: "refused" };
    await this.confirmReplicated("restoreDocument", keys.doc);
    this.cache.set(docId, { nonce, revision: request.revision, data: request.snapshot });
    return { status: "restored", epoch: nonce };
  }

  /** Resolves once Redis answers PING; rejects with {@link RedisUnavailableError} when it cannot be reached. */
  async ping(): Promise<void> {
    await this.call("ping", false, () => this.redis.ping());
  }

  // ------------------------------------------------------------------ PubSub

  /**
   * Publish `message` on `channel`. Commits publish by themselves (inside the commit script);
   * this is for other messages and for published OpenOT code.
   */
  async publish(channel: string, message: CommitNotice): Promise<void> {
    if (typeof channel !== "string" || channel === "") throw new TypeError("publish: channel must be a non-empty string");
    const text = this.encode(message, "message");
    // On a cluster a document's channel is a shard channel, where its subscribers listen.
    const sharded = this.sharded !== undefined && channel !== CLIENT_NOTICE_CHANNEL;
    await this.call("publish", false, () => (sharded ? this.redis.spublish(channel, text) : this.redis.publish(channel, text)));
  }

  /**
   * Subscribe to `channel` (for a document: `documentChannel(docId)` of @open-ot/server).
   * Resolves once Redis confirmed the subscription, to a function that unsubscribes.
   */
  async subscribe(channel: string, onMessage: PubSubListener): Promise<() => Promise<void>> {
    this.assertOpen();
    return await this.subscriber.subscribe(channel, onMessage);
  }

  /** Publish a presence notice to the instances that serve its document (`PresencePubSub` of @open-ot/server). */
  async publishPresence(notice: PresenceNotice): Promise<void> {
    const text = this.encode(notice, "presence notice");
    const channel = presenceChannel(notice.docId);
    // On a cluster the presence channel is a shard channel of the document's slot, like its commit channel.
    await this.call("publishPresence", false, () =>
      this.sharded !== undefined ? this.redis.spublish(channel, text) : this.redis.publish(channel, text),
    );
  }

  /** Receive a document's presence notices; resolves once Redis confirmed the subscription. */
  async subscribePresence(docId: string, listener: (notice: PresenceNotice) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    return await this.subscriber.subscribe(presenceChannel(docId), listener, isPresenceNotice);
  }

  /**
   * Publish `notice` to every instance's {@link subscribeClientNotices} listener (on the
   * channel `ot:clients`), so that an older connection of a client elsewhere is closed.
   */
  async publishClientNotice(notice: ClientNotice): Promise<void> {
    const text = this.encode(notice, "notice");
    await this.call("publishClientNotice", false, () => this.redis.publish(CLIENT_NOTICE_CHANNEL, text));
  }

  /** Receive every client notice published from now on; resolves once Redis confirmed the subscription. */
  async subscribeClientNotices(listener: (notice: ClientNotice) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    return await this.subscriber.subscribe(CLIENT_NOTICE_CHANNEL, listener, isClientNotice);
  }

  /**
   * Be told when the subscriber connection came back after a drop and its subscriptions are
   * active again: messages published meanwhile were lost, so catch up from history. The
   * listener gets the channels concerned: on a cluster only those of the node that dropped, or
   * of the slots that moved to another master. Returns a function that removes the listener.
   */
  onResubscribe(listener: (channels: readonly string[]) => void): () => void {
    return this.subscriber.onResubscribe(listener);
  }

  /** Close both connections. Calls made afterwards reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closing !== undefined) {
      await this.closing;
      return;
    }
    this.setState("closed");
    this.cache.clear();
    this.closing = (async () => {
      await this.subscriber.close();
      try {
        await this.redis.quit();
      } catch {
        // Redis is unreachable: nothing to say goodbye to; drop the socket and stop reconnecting.
        this.redis.disconnect();
      }
    })();
    await this.closing;
  }

  // ------------------------------------------------------------------ internals

  private async runCommit(
    docId: string,
    request: Omit<CommitRequest, "snapshot"> & { snapshot?: unknown },
    snapshot: string | undefined,
  ): Promise<CommitResult> {
    const keys: DocumentKeys = documentKeys(docId);
    const opArgs = OP_ARGS.encode(this.commitArgs(request, snapshot));
    const { reply, lost } = await this.sendCommit("commit", docId, request.revision, (hold) =>
      this.call("commit", true, () =>
        this.scripts.otCommit(
          keys.doc,
          keys.history,
          keys.seqs,
          keys.owners,
          ...SHARED_COMMIT_ARGS.encode(this.sharedCommitArgs(docId, keys, { epoch: request.epoch, hold, maxSeqJump: request.maxSeqJump })),
          ...opArgs,
        ),
      ),
    );
    if (reply[0] === "trimmed") throw new HistoryTrimmedError(docId, (request.base ?? 0) + 1, Number(reply[1]));
    // A duplicate may be the resend of a commit whose confirmation timed out: confirm it again.
    if (reply[0] === "committed" || reply[0] === "duplicate") await this.confirmReplicated("commit", keys.doc);
    return this.commitReply(docId, reply, lost, request);
  }

  /**
   * Send a commit script run (`send`, given how long to ask to hold the next revision if it loses
   * the race: see `turnHoldMs`) and send it again while the revision it commits first,
   * `revision`, is held by another instance (it kept losing the race) until that one has
   * committed or its hold ran out, a few milliseconds at most by Redis's clock. Resolves with the
   * reply (whose first op's reply is no longer `reserved`) and the lost races in a row before it.
   */
  private async sendCommit(
    operation: "commit" | "commitBatch",
    docId: string,
    revision: number,
    send: (hold: number) => Promise<unknown>,
  ): Promise<{ reply: unknown[]; lost: number }> {
    const lost = this.lostRaces.get(docId) ?? 0;
    this.lostRaces.delete(docId);
    const hold = lost >= LOSSES_BEFORE_HOLD ? this.turnHoldMs : 0;
    let reply = replyArray(await send(hold), operation);
    // A batch's reply is a list of per-op replies; only its first op can find its revision held.
    const firstStatus = (): unknown => (Array.isArray(reply[0]) ? (reply[0] as unknown[])[0] : reply[0]);
    for (let waits = 1; firstStatus() === "reserved"; waits++) {
      if (waits > MAX_TURN_WAITS) {
        throw new Error(
          `RedisAdapter: document "${docId}": revision ${revision} stayed held by another instance through ${MAX_TURN_WAITS} tries`,
        );
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      reply = replyArray(await send(hold), operation);
    }
    return { reply, lost };
  }

  /** The per-op arguments of the commit scripts (checked). */
  private commitArgs(request: Omit<CommitRequest, "snapshot">, snapshot: string | undefined): OpArgs {
    const { revision, op, clientId, seq, base, principal } = request;
    if (clientId !== undefined) checkClientId(clientId, "commit");
    if (seq !== undefined && !isValidSeq(seq)) throw new TypeError(`commit: seq must be a positive safe integer, got ${String(seq)}`);
    if (base !== undefined) checkRevision(base, "commit: request.base", 0);
    if (principal !== undefined) checkPrincipal(principal);
    const entry = this.encode({ revision, op, clientId, seq }, "op");
    const tracked = clientId !== undefined && seq !== undefined;
    return {
      revision,
      entry,
      clientId,
      seq: tracked ? seq : undefined,
      snapshot,
      base,
      principal: tracked ? principal : undefined,
    };
  }

  /** The arguments every op of a commit script run shares. */
  private sharedCommitArgs(
    docId: string,
    keys: DocumentKeys,
    run: { epoch: string | undefined; hold: number; maxSeqJump: number | undefined },
  ): SharedCommitArgs {
    return {
      channel: keys.channel,
      // The notice is the history entry with the docId in front: built in the script, so the op
      // travels to Redis once. A valid docId needs no JSON escaping.
      noticePrefix: `{"docId":"${docId}",`,
      historyLimit: this.historyLimit === Infinity ? -1 : this.historyLimit,
      maxClients: this.maxClients === Infinity ? -1 : this.maxClients,
      callerId: this.callerId,
      holdMs: run.hold,
      maxSeqJump: seqJumpArg(run.maxSeqJump),
      epoch: run.epoch,
      sharded: this.sharded,
    };
  }

  /** The result of one op's reply of a commit script (not `reserved` nor `trimmed`). */
  private commitReply(
    docId: string,
    reply: unknown[],
    lost: number,
    request: Omit<CommitRequest, "snapshot"> & { snapshot?: unknown },
  ): CommitResult {
    switch (reply[0]) {
      case "missing":
        throw new DocumentNotFoundError(docId);
      case "replaced":
        throw new DocumentReplacedError(docId, replyString(reply[1], "commit"));
      case "duplicate": {
        const lastSeq = Number(reply[1]);
        const at = Number(reply[2]);
        return at >= 0 ? { status: "duplicate", revision: at, lastSeq } : { status: "duplicate", lastSeq };
      }
      case "forbidden":
        return { status: "forbidden" };
      case "seq_too_far":
        return { status: "seq_too_far", lastSeq: Number(reply[1]) };
      case "conflict": {
        this.lostRaces.set(docId, lost + 1);
        const current = Number(reply[1]);
        if (reply[2] === null || reply[2] === undefined) return { status: "conflict", current };
        return { status: "conflict", current, ops: replyArray(reply[2], "commit").map(decodeEntry) };
      }
      case "committed":
        if ("snapshot" in request) this.cache.set(docId, cachedSnapshot(replyString(reply[2], "commit"), request.revision, request));
        return { status: "committed", revision: request.revision };
      default:
        throw new Error(`RedisAdapter: unexpected reply to commit: ${JSON.stringify(reply)}`);
    }
  }

  /**
   * On a cluster with `replicaAcks`, wait (`WAIT`, on the connection that sent the write) until
   * that many replicas of the key's master have this connection's writes, so a failover keeps
   * them. Rejects with a retryable {@link RedisUnavailableError} when they do not in time.
   */
  private async confirmReplicated(operation: string, key: string): Promise<void> {
    const cluster = this.cluster;
    if (cluster === undefined || this.replicaAcks === 0) return;
    // Not capped by the replicas the slot table lists: CLUSTER SLOTS leaves out a replica that
    // has not reported a replication offset yet, which would turn the wait off unseen.
    const wanted = this.replicaAcks;
    const owner = cluster.slots[keySlot(key)]?.[0];
    const master = cluster.nodes("master").find((node) => `${node.options.host}:${node.options.port}` === owner);
    // A master demoted meanwhile (a failover) refuses WAIT ("cannot be used with replica
    // instances"): the write is then not known to be on the new master, so it is not confirmed.
    const acked =
      master === undefined
        ? 0
        : await this.call(
            operation,
            true,
            async () =>
              await master.wait(wanted, this.replicaAckTimeoutMs).catch((error: unknown) => {
                if (error instanceof Error && error.name === "ReplyError") return 0;
                throw error;
              }),
          );
    if (acked < wanted) {
      throw new RedisUnavailableError(
        `${operation}: applied on the master ${owner ?? "(unknown)"}, but ${acked} of ${wanted} replicas confirmed it within ${this.replicaAckTimeoutMs} ms (replicaAcks), so a failover could lose it; resend it with the same clientId and seq, which de-duplication makes safe (a cluster without replicas needs replicaAcks: 0)`,
        true,
      );
    }
  }

  private snapshotDue(revision: number): boolean {
    return revision % this.snapshotEvery === 0;
  }

  private requireType(name: string, docId: string): OTType<unknown, unknown> {
    const type = this.types.get(name);
    if (type === undefined) {
      throw new TypeError(
        `Document "${docId}" has type "${name}", which this RedisAdapter does not know: pass it in the types option (known: ${[...this.types.keys()].join(", ")})`,
      );
    }
    return type;
  }

  private encode(value: unknown, what: string): string {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`RedisAdapter: ${what} must be JSON-serialisable, got ${String(value)}`);
    return text;
  }

  private saveConflict(docId: string, current: number, newRevision: number): Error {
    return new Error(
      `saveOperation: document "${docId}" is at revision ${current}, so newRevision must be ${current + 1}, not ${newRevision}; reload it and transform the op`,
    );
  }

  private setState(next: State): void {
    this.logger.debug?.(`RedisAdapter: ${this.state} -> ${next}`, { where: this.where });
    this.state = next;
  }

  private assertOpen(): void {
    if (this.state === "closed") throw new Error("RedisAdapter is closed: create a new RedisAdapter");
  }

  /**
   * Run one Redis call. While the connection is known to be down the call is not sent at all:
   * it would wait in ioredis's offline queue until the reconnect attempts run out, and a server
   * waiting on it would hold the client's op for nothing. Other failures to reach Redis become
   * {@link RedisUnavailableError}.
   */
  private async call<T>(operation: string, isCommit: boolean, run: () => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.state === "interrupted") {
      throw new RedisUnavailableError(
        `Redis at ${this.where} is unreachable (connection ${this.redis.status}): ${operation} was not sent and changed nothing; try again once Redis is back`,
        false,
      );
    }
    try {
      return await run();
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
      const hint = isCommit
        ? "it may have been applied before the connection dropped: resend it with the same clientId and seq, which de-duplication makes safe"
        : "try again once Redis is back";
      throw new RedisUnavailableError(`${operation} failed: Redis at ${this.where}: ${error.message}; ${hint}`, true, {
        cause: error,
      });
    }
  }
}
