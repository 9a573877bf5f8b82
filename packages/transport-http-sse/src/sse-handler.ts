import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CloseCode, type ErrorCode, type Logger } from "@open-ot/core";
import {
  parseRequestTarget,
  policyFor,
  refusals,
  type ConnectionPolicy,
  type ConnectionPolicyOptions,
  type Refusal,
  type RequestTarget,
} from "@open-ot/server";
import { parsePostBody } from "./parse-post-body.js";
import { readBody } from "./read-body.js";
import { extractSessionId, extractToken, parseStreamRequest, type RequestRefusal } from "./request-params.js";
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
  /** @deprecated Use `maxMessageBytes`. */
  readonly maxMessageSize?: number;
  /** Milliseconds between keep-alive comment lines on every stream. @default 15000 */
  readonly keepAliveIntervalMs?: number;
  /** @deprecated Use `keepAliveIntervalMs`. */
  readonly keepAliveInterval?: number;
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
  /** @deprecated Use `closeTimeoutMs`. */
  readonly closeTimeout?: number;
  /** Where to report refusals, dropped sessions and internal failures, with client addresses. @default undefined (silent) */
  readonly logger?: Logger;
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

const JSON_HEADERS = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } as const;
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
  const policy = policyFor({ ...options, maxMessageBytes: options.maxMessageBytes ?? options.maxMessageSize }, "createSseHandler");
  const { maxMessageBytes } = policy.limits;
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? options.keepAliveInterval ?? 15_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const maxQueuedPosts = options.maxQueuedPosts ?? 32;
  const closeTimeoutMs = options.closeTimeoutMs ?? options.closeTimeout ?? 5_000;
  const { hub, logger } = options;
  const sessions = new Map<string, SseSession>();
  // Handler lifecycle: serving -> closing -> closed. From closing on, new streams and POSTs get
  // 503; in closed, no stream is left.
  let state: "serving" | "closing" | "closed" = "serving";
  let closing: Promise<void> | undefined;

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
    const id = randomBytes(24).toString("base64url");
    const { remoteAddress, principal } = admission;
    let release: (() => void) | undefined;
    const session = new SseSession(
      hub,
      res,
      { batch, remoteAddress, ...(principal === undefined ? {} : { principal }) },
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
      session.receive({ type: "join", docId, ...(clientId !== undefined ? { clientId } : {}), ...(revision !== undefined ? { revision } : {}) });
    }
  }

  async function acceptPost(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    if (state !== "serving") {
      refuse(res, { status: 503, code: "unavailable", message: "The server is shutting down; the stream will close and you can reconnect." }, closeConnection);
      return;
    }
    const token = extractToken(target.query, req.headers);
    const sessionId = extractSessionId(target.query, req.headers);
    const session = sessionId === undefined ? undefined : sessions.get(sessionId);
    // Every refusal before the body is read closes the connection: Node would otherwise read and
    // discard the whole unread body to keep the connection usable, however large it is.
    if (session === undefined) {
      if (!(await authorized(token, req, res))) return;
      if (sessionId === undefined) refuse(res, { status: 400, code: "bad_message", message: "Name the session: send the X-Session-Id header (or ?sessionId=) from the stream's session event." }, closeConnection);
      else refuse(res, { status: 404, code: "not_found", message: "Unknown session: it ended or never existed; open the event stream again." }, closeConnection);
      return;
    }
    const accepted = session.enqueue(async () => {
      if (!(await authorized(token, req, res))) return;
      if (policy.authenticates && token !== session.token) {
        refuse(res, { status: 403, code: "forbidden", message: "This token is not the one the session's stream was opened with; POST with the same token." }, closeConnection);
        return;
      }
      const body = await readBody(req, maxMessageBytes, bodyTimeoutMs);
      if (body.kind === "aborted") return;
      if (body.kind === "too_large") {
        // Reading stopped at the limit, so the connection cannot carry another request.
        refuse(res, { status: 413, code: "too_large", message: `The body holds ${body.bytes} bytes; the limit is ${maxMessageBytes}. Send smaller messages.` }, closeConnection);
        return;
      }
      if (body.kind === "timeout") {
        logger?.warn?.("SSE POST body too slow; answered 408", { sessionId: session.id, remoteAddress: policy.clientAddress(req), bytes: body.bytes });
        refuse(res, { status: 408, code: "bad_message", message: `The body did not arrive whole within ${bodyTimeoutMs} ms; nothing of it was applied.` }, closeConnection);
        return;
      }
      if (body.kind === "bad_utf8") {
        refuse(res, { status: 400, code: "bad_message", message: "The body is not valid UTF-8." });
        return;
      }
      // A batch over the cap is refused before it is parsed: parsing it would cost more than the body.
      const oversized = session.judgeUnparsed(body.text);
      if (oversized !== undefined) {
        refuse(res, { status: 413, code: "too_large", message: oversized.message });
        return;
      }
      const parsed = parsePostBody(body.text);
      if (!parsed.ok) {
        refuse(res, parsed.refusal);
        return;
      }
      // The whole body is charged before any of it is handled, and refused whole.
      const verdict = session.judge(parsed.params.count);
      if (verdict.kind !== "pass") {
        if (verdict.code === "too_large") {
          refuse(res, { status: 413, code: "too_large", message: verdict.message });
          return;
        }
        res.setHeader("Retry-After", retryAfterSeconds(verdict.retryAfterMs));
        refuse(res, { status: 429, code: "rate_limited", message: verdict.message });
        if (verdict.kind === "close") session.close(verdict.closeCode, "rate limited: too many messages");
        return;
      }
      // Checked again here: the stream may have ended while this POST waited its turn.
      if (session.status !== "open") {
        refuse(res, { status: 404, code: "not_found", message: "Unknown session: it ended; open the event stream again." });
        return;
      }
      session.receive(parsed.params.value);
      // The hub's answers travel on the stream, never here, so that they stay in order with
      // every other ack and op of the session.
      res.writeHead(202, { "Cache-Control": "no-store", "Content-Length": "0" }).end();
    });
    if (!accepted) {
      res.setHeader("Retry-After", "1");
      refuse(res, { status: 429, code: "rate_limited", message: `More than ${maxQueuedPosts} POSTs of this session are waiting; send them one after another.` }, closeConnection);
    }
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
      await Promise.race([Promise.allSettled(open.map((session) => session.idle())), deadline]);
      clearTimeout(timer);
      state = "closed";
      for (const session of [...sessions.values()]) session.close(CloseCode.GOING_AWAY, "server going away");
    })();
    return closing;
  };
  return handler;
}

/** `Retry-After` in whole seconds, at least 1. */
function retryAfterSeconds(ms: number | undefined): string {
  return String(Math.max(1, Math.ceil((ms ?? 1000) / 1000)));
}

function closeConnection(res: ServerResponse): void {
  res.setHeader("Connection", "close");
}

/** Answer with an HTTP error status and a protocol error as the JSON body. */
function refuse(res: ServerResponse, refusal: RequestRefusal, beforeWrite?: (res: ServerResponse) => void): void {
  if (res.headersSent || res.destroyed) return;
  beforeWrite?.(res);
  const body: { type: "error"; code: ErrorCode; message: string } = { type: "error", code: refusal.code, message: refusal.message };
  res.writeHead(refusal.status, JSON_HEADERS).end(JSON.stringify(body));
}
