import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { checkNumberOption, errorMessage, parseClientFrame, type Logger, type ServerMessage } from "@open-ot/core";
import type { ClientSubmit, ConnectionPolicy, MessageGate, PubSub } from "@open-ot/server";
import { closeConnection, readPostBody, TOKEN_MISMATCH, type PostRefusal } from "./http-answer.js";
import { parsePostBody } from "./parse-post-body.js";
import { newInstanceName, SessionRelay, type RelayAnswer, type RelayRequest, type SessionFacts } from "./session-relay.js";
import type { SseHub, SseSession } from "./sse-session.js";

/**
 * Options of `sharedSessions` in `createSseHandler`: let every instance take the POSTs of
 * every session, wherever its stream is (docs/deploying.md, "SSE without sticky sessions").
 */
export interface SharedSessionsOptions {
  /** The pub/sub all instances share: the backend's (a `RedisAdapter`, or `MemoryBackend.pubsub` within one process). */
  readonly pubsub: PubSub;
  /** How long to wait for the instance holding a session's stream to answer; then the POST is answered 404. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** How long what the holding instance said about a session (its client, principal, documents) is used before asking again. @default 2000 */
  readonly factsTtlMs?: number;
  /** Requests to other instances waiting for their answer at once; past it POSTs that need one are answered 503. @default 1000 */
  readonly maxPendingRequests?: number;
  /** Sessions of other instances that this one keeps state for (facts, rate limit, POST queue); past it, 503. @default 10000 */
  readonly maxRemoteSessions?: number;
}

/** What the handler lends the shared sessions: its own sessions and how it applies a POST body to one. */
export interface LocalSessions {
  get(sessionId: string): SseSession | undefined;
  serving(): boolean;
  /** Apply a POST body to a session as a POST that reached it would be (after the token check), and wait until the hub handled it. */
  apply(session: SseSession, text: string): Promise<PostRefusal | undefined>;
}

/** Settings of {@link SharedSessions}. */
export interface SharedSessionsSettings {
  readonly options: SharedSessionsOptions;
  readonly hub: SseHub;
  readonly policy: ConnectionPolicy;
  readonly local: LocalSessions;
  readonly maxQueuedPosts: number;
  readonly bodyTimeoutMs: number;
  readonly logger: Logger | undefined;
  /** Answer a POST (202 when `refusal` is undefined), counting refusals as the handler does. */
  readonly answer: (res: ServerResponse, refusal: PostRefusal | undefined, beforeWrite?: (res: ServerResponse) => void) => void;
}

/** A session id: the name of the instance holding its stream, a dot, and 32 random base64url characters. */
const SESSION_ID = /^([A-Za-z0-9_-]{16})\.[A-Za-z0-9_-]{32}$/;

/** A new session id held by `instance`. */
export function newSessionId(instance: string): string {
  return `${instance}.${randomBytes(24).toString("base64url")}`;
}

/** The instance a session id names, or undefined when it is not one. */
function holderOf(sessionId: string): string | undefined {
  return SESSION_ID.exec(sessionId)?.[1];
}

/**
 * A digest of a session's token, client or principal, for the relay: instances compare these
 * and never send one another the secrets themselves.
 */
export function sessionDigest(purpose: "token" | "client" | "principal", value: string): string {
  return createHash("sha256").update(`ot-sse-${purpose}\n${value}`).digest("base64url").slice(0, 22);
}

function digestOrNull(purpose: "token" | "principal", value: string | undefined): string | null {
  return value === undefined ? null : sessionDigest(purpose, value);
}

const OWNER = "createSseHandler";

const GONE: PostRefusal = {
  status: 404,
  code: "not_found",
  message: "Unknown session: it ended, or the instance holding its stream did not answer; open the event stream again.",
};
const BUSY: PostRefusal = {
  status: 503,
  code: "unavailable",
  message: "Too many POSTs are waiting for other instances; try again shortly.",
  retryAfterMs: 1000,
};

/**
 * What this instance keeps for a session another instance holds: the facts the holder gave, the
 * session's rate limit for the ops committed here, and its POSTs in arrival order.
 */
class RemoteSession {
  facts: { readonly token: string | null; readonly at: number; readonly facts: SessionFacts } | undefined;
  readonly gate: MessageGate;
  lastUsed = performance.now();
  private queue: Promise<void> = Promise.resolve();
  queued = 0;

  constructor(
    readonly id: string,
    readonly holder: string,
    gate: MessageGate,
  ) {
    this.gate = gate;
  }

  /** Run `task` after the tasks enqueued before it; false (and nothing run) when `max` are waiting. */
  enqueue(task: () => Promise<void>, max: number, logger: Logger | undefined): boolean {
    if (this.queued >= max) return false;
    this.queued++;
    this.lastUsed = performance.now();
    this.queue = this.queue.then(async () => {
      try {
        await task();
      } catch (error) {
        logger?.error?.("SSE POST for a session of another instance failed", { error });
      } finally {
        this.queued--;
        this.lastUsed = performance.now();
      }
    });
    return true;
  }

  idle(): Promise<void> {
    return this.queue;
  }
}

/**
 * SSE sessions shared by every instance (docs/deploying.md): a POST that reaches an instance
 * other than the one holding its session's stream is authenticated here as the holder would,
 * then either committed here (ops of the session's client to documents it joined: their acks
 * reach the stream through the documents' delivery path) or handed whole to the holder, which
 * handles it as if it had been posted there. Refusals always reach the client on its stream.
 */
export class SharedSessions {
  /** This instance's name; its session ids start with it. */
  readonly instance = newInstanceName();
  private readonly relay: SessionRelay;
  private readonly remotes = new Map<string, RemoteSession>();
  private readonly factsTtlMs: number;
  private readonly maxRemoteSessions: number;

  constructor(private readonly settings: SharedSessionsSettings) {
    const { options, logger } = settings;
    this.factsTtlMs = checkNumberOption(OWNER, "sharedSessions.factsTtlMs", options.factsTtlMs ?? 2000, { min: 0 });
    this.maxRemoteSessions = checkNumberOption(OWNER, "sharedSessions.maxRemoteSessions", options.maxRemoteSessions ?? 10_000, {
      min: 1,
      integer: true,
    });
    this.relay = new SessionRelay({
      pubsub: options.pubsub,
      instance: this.instance,
      timeoutMs: checkNumberOption(OWNER, "sharedSessions.requestTimeoutMs", options.requestTimeoutMs ?? 5000, { min: 0, aboveMin: true }),
      maxPending: checkNumberOption(OWNER, "sharedSessions.maxPendingRequests", options.maxPendingRequests ?? 1000, {
        min: 1,
        integer: true,
      }),
      logger,
      onRequest: (request) => this.answer(request),
    });
  }

  /** Resolves true once other instances can reach this one (streams should not open before). */
  get ready(): Promise<boolean> {
    return this.relay.ready;
  }

  /** True when `sessionId` names a session of another instance. */
  isRemote(sessionId: string): boolean {
    const holder = holderOf(sessionId);
    return holder !== undefined && holder !== this.instance;
  }

  /** Take a POST for a session of another instance (see the class comment) and answer it. */
  acceptPost(req: IncomingMessage, res: ServerResponse, sessionId: string, token: string | undefined): void {
    const remote = this.remote(sessionId);
    if (remote === undefined) {
      this.settings.answer(res, BUSY, closeConnection);
      return;
    }
    const accepted = remote.enqueue(() => this.handlePost(req, res, remote, token), this.settings.maxQueuedPosts, this.settings.logger);
    if (!accepted) {
      this.settings.answer(
        res,
        {
          status: 429,
          code: "rate_limited",
          message: `More than ${this.settings.maxQueuedPosts} POSTs of this session are waiting; send them one after another.`,
          retryAfterMs: 1000,
        },
        closeConnection,
      );
    }
  }

  /** Resolves when every POST taken for other instances' sessions has been answered. */
  async idle(): Promise<void> {
    await Promise.all([...this.remotes.values()].map((remote) => remote.idle()));
  }

  /** Stop answering other instances and asking them. */
  async close(): Promise<void> {
    await this.relay.close();
  }

  // ------------------------------------------------------------------ the instance that took the POST

  private async handlePost(req: IncomingMessage, res: ServerResponse, remote: RemoteSession, token: string | undefined): Promise<void> {
    const { policy, logger } = this.settings;
    if (!this.settings.local.serving()) {
      this.settings.answer(
        res,
        { status: 503, code: "unavailable", message: "The server is shutting down; POST to another instance." },
        closeConnection,
      );
      return;
    }
    const authorized = await policy.authorize(req, token);
    if (!authorized.ok) {
      this.settings.answer(res, { ...authorized.refusal }, closeConnection);
      return;
    }
    const tokenDigest = policy.authenticates ? digestOrNull("token", token) : null;
    const principal = policy.authenticates ? digestOrNull("principal", authorized.principal) : null;
    const cached = remote.facts;
    let known = await this.facts(remote, tokenDigest, false);
    // Every refusal before the body is read closes the connection (see the handler's acceptPost).
    if ("status" in known) {
      this.settings.answer(res, known, closeConnection);
      return;
    }
    if ((known.principal ?? null) !== principal) {
      this.settings.answer(res, TOKEN_MISMATCH, closeConnection);
      return;
    }
    const body = await readPostBody(
      req,
      { maxMessageBytes: policy.limits.maxMessageBytes, ...this.settings },
      { sessionId: remote.id, remoteAddress: policy.clientAddress(req) },
    );
    if (body === undefined) return;
    if ("refusal" in body) {
      this.settings.answer(res, body.refusal, body.close ? closeConnection : undefined);
      return;
    }
    const { text } = body;
    // A batch over the cap is refused before it is parsed, as the holder would refuse it.
    const oversized = remote.gate.judgeUnparsed(text);
    if (oversized !== undefined) {
      this.settings.answer(res, { status: 413, code: "too_large", message: oversized.message });
      return;
    }
    const submit = this.settings.hub.submit?.bind(this.settings.hub);
    let ops = submit === undefined ? undefined : committable(text, known);
    if (submit !== undefined && ops === undefined && known === cached?.facts) {
      // What the holder said may be out of date (a join since): ask again before handing it over.
      const fresh = await this.facts(remote, tokenDigest, true);
      if ("status" in fresh) {
        this.settings.answer(res, fresh);
        return;
      }
      known = fresh;
      ops = committable(text, known);
    }
    if (submit === undefined || ops === undefined) {
      const answer = await this.relay.request(remote.holder, { kind: "post", session: remote.id, token: tokenDigest, body: text });
      this.settings.answer(res, outcome(answer));
      return;
    }
    const verdict = remote.gate.judge(ops.length);
    if (verdict.kind !== "pass") {
      this.settings.answer(
        res,
        verdict.code === "too_large"
          ? { status: 413, code: "too_large", message: verdict.message }
          : { status: 429, code: "rate_limited", message: verdict.message, retryAfterMs: verdict.retryAfterMs },
      );
      return;
    }
    const refusals: ServerMessage[] = [];
    const grant = authorized.principal === undefined ? {} : { principal: authorized.principal };
    for (const op of ops) {
      let refusal = await submit({ ...op, ...grant });
      if (refusal?.code === "resync_required" && known === cached?.facts) {
        // The epoch the holder said may be out of date (a join into a newer life since): ask again.
        const fresh = await this.facts(remote, tokenDigest, true);
        const epoch = "status" in fresh ? undefined : fresh.epochs?.[op.docId];
        if (!("status" in fresh)) known = fresh;
        if (epoch !== undefined && epoch !== op.epoch) refusal = await submit({ ...op, epoch, ...grant });
      }
      if (refusal !== undefined) refusals.push(errorMessage(refusal));
    }
    if (refusals.length > 0) {
      const answer = await this.relay.request(remote.holder, {
        kind: "deliver",
        session: remote.id,
        token: tokenDigest,
        messages: refusals,
      });
      const refused = outcome(answer);
      if (refused !== undefined) {
        logger?.debug?.("SSE: a refusal could not reach its session's stream", { sessionId: remote.id });
        this.settings.answer(res, refused);
        return;
      }
    }
    this.settings.answer(res, undefined);
  }

  /** The holder's facts about a session (cached for `factsTtlMs` per token), or the refusal to answer. */
  private async facts(remote: RemoteSession, token: string | null, fresh: boolean): Promise<SessionFacts | PostRefusal> {
    const cached = remote.facts;
    if (!fresh && cached !== undefined && cached.token === token && performance.now() - cached.at < this.factsTtlMs) return cached.facts;
    const answer = await this.relay.request(remote.holder, { kind: "facts", session: remote.id, token });
    if (answer === undefined) return GONE;
    if (answer.status !== 200) {
      if (answer.status === 404) this.remotes.delete(remote.id);
      return postRefusal(answer);
    }
    const facts = readFacts(answer.facts);
    if (facts === undefined) return GONE;
    remote.facts = { token, at: performance.now(), facts };
    return facts;
  }

  /** The state kept for `sessionId`, created when there is room; undefined when there is none. */
  private remote(sessionId: string): RemoteSession | undefined {
    let remote = this.remotes.get(sessionId);
    if (remote !== undefined) {
      // Most recently used last, so the oldest are found first when room is needed.
      this.remotes.delete(sessionId);
      this.remotes.set(sessionId, remote);
      return remote;
    }
    if (this.remotes.size >= this.maxRemoteSessions) {
      for (const [id, entry] of this.remotes) {
        if (entry.queued > 0) continue;
        this.remotes.delete(id);
        break;
      }
      if (this.remotes.size >= this.maxRemoteSessions) return undefined;
    }
    remote = new RemoteSession(sessionId, holderOf(sessionId)!, this.settings.policy.createGate());
    this.remotes.set(sessionId, remote);
    return remote;
  }

  // ------------------------------------------------------------------ the instance holding the stream

  /** Answer another instance about one of this instance's sessions. */
  private async answer(request: RelayRequest): Promise<RelayAnswer> {
    const { local, policy } = this.settings;
    const session = local.get(request.session);
    if (session === undefined || session.status !== "open") return GONE;
    if (!local.serving())
      return { status: 503, code: "unavailable", message: "The server is shutting down; the stream will close and you can reconnect." };
    if (policy.authenticates && digestOrNull("token", session.token) !== request.token) {
      return {
        status: 403,
        code: "forbidden",
        message: "This token is not the one the session's stream was opened with; POST with the same token.",
      };
    }
    switch (request.kind) {
      case "facts": {
        const client = session.boundClientId;
        const epochs: Record<string, string> = {};
        for (const docId of session.documents) {
          const epoch = session.epochOf(docId);
          if (epoch !== undefined) epochs[docId] = epoch;
        }
        const facts: SessionFacts = {
          docs: session.documents,
          epochs,
          ...(client === undefined ? {} : { client: sessionDigest("client", client) }),
          ...(session.principal === undefined ? {} : { principal: sessionDigest("principal", session.principal) }),
        };
        return { status: 200, facts };
      }
      case "deliver":
        session.push(request.messages as ServerMessage[]);
        return { status: 202 };
      case "post":
        return await new Promise<RelayAnswer>((resolve) => {
          const accepted = session.enqueue(async () => {
            const refusal = await local
              .apply(session, request.body)
              .catch((): PostRefusal => ({ status: 500, code: "internal", message: "The server failed; the request was not applied." }));
            resolve(refusal ?? { status: 202 });
          });
          if (!accepted)
            resolve({
              status: 429,
              code: "rate_limited",
              message: `More than ${this.settings.maxQueuedPosts} POSTs of this session are waiting; send them one after another.`,
              retryAfterMs: 1000,
            });
        });
    }
  }
}

/**
 * The ops of a POST body that this instance may commit for the session: every message an `op`
 * that names the session's client and a seq, for a document the session joined. Undefined when
 * anything in the body is not such an op (the holder then handles all of it, in order).
 */
function committable(text: string, facts: SessionFacts): Omit<ClientSubmit, "principal">[] | undefined {
  const parsed = parsePostBody(text);
  if (!parsed.ok || facts.client === undefined) return undefined;
  const results = parseClientFrame(Array.isArray(parsed.params.value) ? parsed.params.value : [parsed.params.value]);
  const ops: Omit<ClientSubmit, "principal">[] = [];
  for (const result of results) {
    if (!result.ok || result.message.type !== "op") return undefined;
    const { clientId, seq, op, revision } = result.message;
    if (clientId === undefined || seq === undefined || sessionDigest("client", clientId) !== facts.client) return undefined;
    const docId = result.message.docId ?? (facts.docs.length === 1 ? facts.docs[0] : undefined);
    if (docId === undefined || !facts.docs.includes(docId)) return undefined;
    const epoch = facts.epochs?.[docId];
    ops.push({ docId, op, revision, clientId, seq, ...(epoch === undefined ? {} : { epoch }) });
  }
  return ops;
}

/** The facts in an answer, checked field by field (they came over the network). */
function readFacts(value: unknown): SessionFacts | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { docs, client, principal, epochs } = value as Record<string, unknown>;
  if (!Array.isArray(docs) || !docs.every((doc) => typeof doc === "string")) return undefined;
  if (client !== undefined && typeof client !== "string") return undefined;
  if (principal !== undefined && typeof principal !== "string") return undefined;
  if (
    epochs !== undefined &&
    !(typeof epochs === "object" && epochs !== null && Object.values(epochs).every((epoch) => typeof epoch === "string"))
  )
    return undefined;
  return {
    docs,
    ...(client === undefined ? {} : { client }),
    ...(principal === undefined ? {} : { principal }),
    ...(epochs === undefined ? {} : { epochs: epochs as Record<string, string> }),
  };
}

/** What to answer a POST that was handed to the holder: its refusal, undefined for 202, or {@link GONE} when it did not answer. */
function outcome(answer: RelayAnswer | undefined): PostRefusal | undefined {
  if (answer === undefined) return GONE;
  return answer.status === 202 ? undefined : postRefusal(answer);
}

/** A holder's refusal as this instance's answer to the POST. */
function postRefusal(answer: RelayAnswer): PostRefusal {
  const code = typeof answer.code === "string" ? answer.code : "internal";
  return {
    status: answer.status >= 400 && answer.status <= 599 ? answer.status : 500,
    code: code as PostRefusal["code"],
    message: typeof answer.message === "string" ? answer.message.slice(0, 500) : "The request was refused.",
    ...(typeof answer.retryAfterMs === "number" ? { retryAfterMs: answer.retryAfterMs } : {}),
  };
}
