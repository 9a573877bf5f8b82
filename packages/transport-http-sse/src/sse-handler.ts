import type { IncomingMessage, ServerResponse } from "node:http";
import { CloseCode, type Logger } from "@open-ot/core";
import {
  parseRequestTarget,
  policyFor,
  refusals,
  tryReport,
  type ConnectionPolicy,
  type ConnectionPolicyOptions,
  type Refusal,
  type RequestTarget,
  type ServerMetrics,
} from "@open-ot/server";
import {
  answerPost,
  closeConnection,
  readPostBody,
  refuse as answerRefusal,
  retryAfterSeconds,
  TOKEN_MISMATCH,
  type PostRefusal,
} from "./http-answer.js";
import { parsePostBody } from "./parse-post-body.js";
import { extractSessionId, extractToken, parseStreamRequest, type RequestRefusal } from "./request-params.js";
import { newInstanceName } from "./session-relay.js";
import { newSessionId, SharedSessions, type SharedSessionsOptions } from "./shared-sessions.js";
import { formatSseEvent } from "./sse-event.js";
import { SseSession, type SseHub } from "./sse-session.js";

/**
 * Options of {@link createSseHandler}. The connection policy (origins, tokens, client
 * addresses, limits) has the same options as the WebSocket binding's, documented on
 * `ConnectionPolicyOptions` of @open-ot/server; or pass one shared `policy` instead.
 */
export interface SseHandlerOptions extends ConnectionPolicyOptions {
  /** The hub that sessions are connected to (`Hub` from @open-ot/server). */
  readonly hub: SseHub;
  /**
   * A policy shared with other bindings (`createConnectionPolicy()` of @open-ot/server), so
   * that their connections count together and `policy.revoke()` reaches all of them. Not
   * together with the policy options themselves.
   * @default a policy built from this handler's options
   */
  readonly policy?: ConnectionPolicy;
  /** Path of the event stream. @default "/events" */
  readonly eventsPath?: string;
  /** Path that takes POSTed messages. @default "/messages" */
  readonly messagesPath?: string;
  /** Milliseconds between keep-alive comment lines on every stream. @default 15000 */
  readonly keepAliveIntervalMs?: number;
  /**
   * How long a POST body may take to arrive whole. A slower one is answered 408 and its
   * connection closed, so that a body dripped a byte at a time cannot hold its session's POSTs.
   * @default 10000
   */
  readonly bodyTimeoutMs?: number;
  /** POSTs of one session waiting to be handled before further ones are answered 429. @default 32 */
  readonly maxQueuedPosts?: number;
  /**
   * How long `close()` waits for the hub to finish what sessions already sent (so that their
   * acks go out before the close event) before it closes them anyway. @default 5000
   */
  readonly closeTimeoutMs?: number;
  /** Where to report refusals, dropped sessions and internal failures, with client addresses. @default undefined (silent) */
  readonly logger?: Logger;
  /**
   * Let every instance take every session's POSTs, so that a load balancer needs no sticky
   * sessions for them (only each event stream stays on the instance that opened it, as any
   * long-lived response does). Give every instance the same pub/sub (the backend's). See
   * docs/deploying.md. @default undefined (a POST must reach the instance holding its stream; elsewhere it is answered 404)
   */
  readonly sharedSessions?: SharedSessionsOptions;
  /** Where to report connections, refused requests and queued bytes (see `ServerMetrics` of @open-ot/server). @default hub.metrics */
  readonly metrics?: ServerMetrics;
}

/**
 * A node:http request handler for the SSE binding, usable as `server.on("request", handler)` or
 * as Express/Connect middleware. Returns true when it handled the request; for other paths (and
 * request targets that are not a path at all) it calls `next()` when given one (Connect style)
 * and returns false. It never throws.
 */
export interface SseHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): boolean;
  /** Number of open event streams. */
  readonly sessionCount: number;
  /** The connection policy this handler applies; `policy.revoke(principal)` ends a principal's streams with 4003. */
  readonly policy: ConnectionPolicy;
  /**
   * Shut down gracefully: refuse new streams and POSTs with 503, wait (up to `closeTimeoutMs`)
   * for the hub to handle what sessions already sent, then end every stream with a close event
   * (code 1001, "server going away"). Safe to call more than once.
   */
  close(): Promise<void>;
}

const STREAM_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  Connection: "keep-alive",
  "X-Accel-Buffering": "no",
} as const;
const CORS_REQUEST_HEADERS = "Authorization, Content-Type, Last-Event-ID, X-Session-Id";

/**
 * Bind a hub to node:http: `GET /events` opens a session's event stream (joining `docId` when
 * given), `POST /messages` hands messages to a session. See the package README for the wire
 * details and every status code.
 */
export function createSseHandler(options: SseHandlerOptions): SseHandler {
  const eventsPath = options.eventsPath ?? "/events";
  const messagesPath = options.messagesPath ?? "/messages";
  const policy = policyFor(options, "createSseHandler");
  const { maxMessageBytes } = policy.limits;
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? 15_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const maxQueuedPosts = options.maxQueuedPosts ?? 32;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  const { hub, logger } = options;
  const metrics = options.metrics ?? hub.metrics;
  const sessions = new Map<string, SseSession>();
  // Handler lifecycle: serving -> closing -> closed. From closing on, new streams and POSTs get
  // 503; in closed, no stream is left.
  let state: "serving" | "closing" | "closed" = "serving";
  let closing: Promise<void> | undefined;
  const shared =
    options.sharedSessions === undefined
      ? undefined
      : new SharedSessions({
          options: options.sharedSessions,
          hub,
          policy,
          maxQueuedPosts,
          bodyTimeoutMs,
          logger,
          answer: (res, refusal, beforeWrite) => answer(res, refusal, beforeWrite),
          local: {
            get: (sessionId) => sessions.get(sessionId),
            serving: () => state === "serving",
            apply: (session, text) => applyBody(session, text),
          },
        });
  const instance = shared?.instance ?? newInstanceName();
  const unwatchQueued = tryReport(() =>
    metrics?.watchQueuedBytes?.("sse", () => {
      let bytes = 0;
      for (const session of sessions.values()) bytes += session.bufferedBytes;
      return bytes;
    }),
  );

  /** Answer a refused request, counting it in the metrics. */
  function refuse(res: ServerResponse, refusal: RequestRefusal, beforeWrite?: (res: ServerResponse) => void): void {
    if (res.headersSent || res.destroyed) return;
    tryReport(() => metrics?.refused?.(refusal.code, "request"));
    answerRefusal(res, refusal, beforeWrite);
  }

  /** Answer a POST: 202, or its refusal (counted in the metrics). */
  function answer(res: ServerResponse, refusal: PostRefusal | undefined, beforeWrite?: (res: ServerResponse) => void): void {
    if (refusal !== undefined && !res.headersSent) tryReport(() => metrics?.refused?.(refusal.code, "request"));
    answerPost(res, refusal, beforeWrite);
  }

  const handler = ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): boolean => {
    const target = parseRequestTarget(req.url);
    if (target === undefined || (target.pathname !== eventsPath && target.pathname !== messagesPath)) {
      next?.();
      return false;
    }
    if (!applyCors(req, res)) return true;
    if (req.method === "OPTIONS") {
      res.writeHead(204).end();
      return true;
    }
    const method = target.pathname === eventsPath ? "GET" : "POST";
    if (req.method !== method) {
      res.setHeader("Allow", `${method}, OPTIONS`);
      refuse(res, { status: 405, code: "bad_message", message: `Use ${method} on ${target.pathname}.` });
      return true;
    }
    const work = method === "GET" ? openStream(req, res, target) : acceptPost(req, res, target);
    work.catch((error: unknown) => {
      logger?.error?.("SSE request failed", { path: target.pathname, error });
      if (!res.headersSent) refuse(res, { status: 500, code: "internal", message: "The server failed; the request was not applied." });
      else if (!res.writableEnded) res.destroy();
    });
    return true;
  }) as SseHandler;

  async function openStream(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    if (state !== "serving") {
      refuseStream(res, refusals.shuttingDown());
      return;
    }
    const parsed = parseStreamRequest(target.query, req.headers);
    if (!parsed.ok) {
      refuse(res, parsed.refusal);
      return;
    }
    const token = extractToken(target.query, req.headers);
    const origin = typeof req.headers.origin === "string" ? req.headers.origin : undefined;
    const result = await policy.admit(req, { token, origin });
    if (!result.ok) {
      refuseStream(res, result.refusal);
      return;
    }
    const { admission } = result;
    // Other instances must be able to reach this one before it hands out a session id.
    if (shared !== undefined && !(await shared.ready)) {
      admission.abandon();
      refuseStream(res, {
        ...refusals.shuttingDown(),
        message: "This instance cannot reach the other instances; open the stream on another one.",
      });
      return;
    }
    // The client may have left while the token was being checked; opening a session then would
    // leak it, since its 'close' event has already fired.
    if (req.destroyed || res.destroyed || state !== "serving") {
      admission.abandon();
      if (!res.headersSent && !res.destroyed) refuseStream(res, refusals.shuttingDown());
      return;
    }
    const { docId, clientId, revision, batch } = parsed.params;
    res.writeHead(200, STREAM_HEADERS);
    res.flushHeaders();
    // Events are small and latency matters more than packet count.
    req.socket.setNoDelay(true);
    const id = newSessionId(instance);
    const { remoteAddress, principal } = admission;
    let release: (() => void) | undefined;
    const session = new SseSession(
      hub,
      res,
      { batch, remoteAddress, transport: "sse", ...(principal === undefined ? {} : { principal }) },
      {
        id,
        token,
        streamDocId: docId,
        keepAliveInterval: keepAliveIntervalMs,
        maxBufferedBytes: policy.limits.maxBufferedBytes,
        maxQueuedPosts,
        gate: policy.createGate(),
        remoteAddress,
        logger,
        onEnd: (ended) => {
          if (sessions.get(ended.id) === ended) sessions.delete(ended.id);
          release?.();
        },
      },
    );
    if (session.status !== "open") {
      admission.abandon();
      return;
    }
    release = admission.open(session);
    sessions.set(id, session);
    logger?.debug?.("SSE session opened", { sessionId: id, remoteAddress, principal });
    if (docId !== undefined) {
      session.receive({
        type: "join",
        docId,
        ...(clientId !== undefined ? { clientId } : {}),
        ...(revision !== undefined ? { revision } : {}),
      });
    }
  }

  async function acceptPost(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    if (state !== "serving") {
      refuse(
        res,
        { status: 503, code: "unavailable", message: "The server is shutting down; the stream will close and you can reconnect." },
        closeConnection,
      );
      return;
    }
    const token = extractToken(target.query, req.headers);
    const sessionId = extractSessionId(target.query, req.headers);
    if (sessionId !== undefined && shared?.isRemote(sessionId) === true) {
      shared.acceptPost(req, res, sessionId, token);
      return;
    }
    const session = sessionId === undefined ? undefined : sessions.get(sessionId);
    // Every refusal before the body is read closes the connection: Node would otherwise read and
    // discard the whole unread body to keep the connection usable, however large it is.
    if (session === undefined) {
      if (!(await authorized(token, req, res))) return;
      if (sessionId === undefined)
        refuse(
          res,
          {
            status: 400,
            code: "bad_message",
            message: "Name the session: send the X-Session-Id header (or ?sessionId=) from the stream's session event.",
          },
          closeConnection,
        );
      else
        refuse(
          res,
          { status: 404, code: "not_found", message: "Unknown session: it ended or never existed; open the event stream again." },
          closeConnection,
        );
      return;
    }
    const accepted = session.enqueue(async () => {
      if (!(await authorized(token, req, res))) return;
      if (policy.authenticates && token !== session.token) {
        refuse(res, TOKEN_MISMATCH, closeConnection);
        return;
      }
      const body = await readPostBody(
        req,
        { maxMessageBytes, bodyTimeoutMs, logger },
        { sessionId: session.id, remoteAddress: policy.clientAddress(req) },
      );
      if (body === undefined) return;
      if ("refusal" in body) {
        answer(res, body.refusal, body.close ? closeConnection : undefined);
        return;
      }
      answer(res, await applyBody(session, body.text));
    });
    if (!accepted) {
      res.setHeader("Retry-After", "1");
      refuse(
        res,
        {
          status: 429,
          code: "rate_limited",
          message: `More than ${maxQueuedPosts} POSTs of this session are waiting; send them one after another.`,
        },
        closeConnection,
      );
    }
  }

  /**
   * Hand a POST body to its session, in its turn, after the token check: the batch cap, the
   * shape, the rate limit, then the hub. Resolves with the refusal, or undefined for 202. With
   * shared sessions it resolves only once the hub has handled the body, so that a client that
   * sends its next POST after this one's answer keeps its order across instances.
   */
  async function applyBody(session: SseSession, text: string): Promise<PostRefusal | undefined> {
    // A batch over the cap is refused before it is parsed: parsing it would cost more than the body.
    const oversized = session.judgeUnparsed(text);
    if (oversized !== undefined) return { status: 413, code: "too_large", message: oversized.message };
    const parsed = parsePostBody(text);
    if (!parsed.ok) return parsed.refusal;
    // The whole body is charged before any of it is handled, and refused whole.
    const verdict = session.judge(parsed.params.count);
    if (verdict.kind !== "pass") {
      if (verdict.code === "too_large") return { status: 413, code: "too_large", message: verdict.message };
      if (verdict.kind === "close") session.close(verdict.closeCode, "rate limited: too many messages");
      return { status: 429, code: "rate_limited", message: verdict.message, retryAfterMs: verdict.retryAfterMs ?? 1000 };
    }
    // Checked again here: the stream may have ended while this POST waited its turn.
    if (session.status !== "open")
      return { status: 404, code: "not_found", message: "Unknown session: it ended; open the event stream again." };
    session.receive(parsed.params.value);
    // The hub's answers travel on the stream, never here, so that they stay in order with
    // every other ack and op of the session.
    if (shared !== undefined) await session.handled();
    return undefined;
  }

  /** Check a POST's token with the policy; answers the refusal (closing the connection) and returns false when the request may not go on. */
  async function authorized(token: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const result = await policy.authorize(req, token);
    if (result.ok) return true;
    if (result.refusal.retryAfterMs !== undefined) res.setHeader("Retry-After", retryAfterSeconds(result.refusal.retryAfterMs));
    refuse(res, result.refusal, closeConnection);
    return false;
  }

  /**
   * Refuse an event stream: with its HTTP status, or, with `refuseInBand`, with a 200 stream
   * holding one `close` event (the refusal's close code and message) and nothing else, which is
   * what a browser's EventSource lets a page read.
   */
  function refuseStream(res: ServerResponse, refusal: Refusal): void {
    if (res.headersSent || res.destroyed) return;
    if (!policy.refuseInBand) {
      if (refusal.retryAfterMs !== undefined) res.setHeader("Retry-After", retryAfterSeconds(refusal.retryAfterMs));
      refuse(res, refusal);
      return;
    }
    res.writeHead(200, STREAM_HEADERS);
    res.end(formatSseEvent({ event: "close", data: JSON.stringify({ code: refusal.closeCode, reason: refusal.message }) }));
  }

  /** Send CORS headers when configured; returns false after answering 403 for an origin that is not allowed. */
  function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    const allowedOrigins = policy.allowedOrigins;
    if (allowedOrigins === undefined || origin === undefined) return true;
    if (!policy.originAllowed(origin, req)) {
      refuse(res, { status: 403, code: "forbidden", message: `Origin ${origin.slice(0, 80)} is not allowed.` });
      return false;
    }
    res.setHeader("Access-Control-Allow-Origin", allowedOrigins === "*" ? "*" : origin);
    res.setHeader("Vary", "Origin");
    res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.setHeader("Access-Control-Allow-Headers", CORS_REQUEST_HEADERS);
    res.setHeader("Access-Control-Expose-Headers", "Retry-After");
    res.setHeader("Access-Control-Max-Age", "600");
    return true;
  }

  Object.defineProperty(handler, "sessionCount", { get: () => sessions.size, enumerable: true });
  Object.defineProperty(handler, "policy", { value: policy, enumerable: true });
  handler.close = (): Promise<void> => {
    closing ??= (async () => {
      state = "closing";
      const open = [...sessions.values()];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, closeTimeoutMs)));
      // Ops already accepted (202) are committed before the streams end, and most of their acks
      // go out ahead of the close event, so fewer clients need to resend after they reconnect.
      await Promise.race([Promise.allSettled([...open.map((session) => session.idle()), shared?.idle()]), deadline]);
      clearTimeout(timer);
      state = "closed";
      for (const session of [...sessions.values()]) session.close(CloseCode.GOING_AWAY, "server going away");
      unwatchQueued?.();
      await shared?.close();
    })();
    return closing;
  };
  return handler;
}
