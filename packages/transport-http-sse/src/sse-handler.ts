import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CloseCode, type ErrorCode, type Logger } from "@open-ot/core";
import { parsePostBody } from "./parse-post-body.js";
import { readBody } from "./read-body.js";
import { extractSessionId, extractToken, parseStreamRequest, type RequestRefusal } from "./request-params.js";
import { SseSession, type SseHub } from "./sse-session.js";
import type { TokenBucketOptions } from "./token-bucket.js";

/**
 * Checks the credentials of a request (the `Authorization: Bearer` token, else the `token` query
 * parameter). Not called for a request without a token, which is refused with 401 at once.
 */
export type VerifyToken = (token: string, req: IncomingMessage) => boolean | Promise<boolean>;

/** Per-session rate limit: a token bucket, one token per POSTed message (per element of an array). */
export interface RateLimitOptions {
  /** Sustained messages per second. @default 100 */
  readonly messagesPerSecond?: number;
  /** Messages a session may send at once before the sustained rate applies; also the most one POST may hold. @default 200 */
  readonly burst?: number;
}

/** Options of {@link createSseHandler}. */
export interface SseHandlerOptions {
  /** The hub that sessions are connected to (`Hub` from @open-ot/server). */
  readonly hub: SseHub;
  /** Path of the event stream. @default "/events" */
  readonly eventsPath?: string;
  /** Path that takes POSTed messages. @default "/messages" */
  readonly messagesPath?: string;
  /**
   * Checked on both requests (the stream and every POST) before anything else; false or a
   * rejected promise answers HTTP 401. A POST must also carry the same token its stream was
   * opened with (else 403), so that knowing a session id is not enough to write into another
   * user's session. @default undefined (no authentication; tokens are ignored)
   */
  readonly verifyToken?: VerifyToken;
  /** Largest POST body in bytes; a larger one is answered 413 and not read further. @default 1048576 (1 MiB) */
  readonly maxMessageSize?: number;
  /**
   * Per-session rate limit over POSTed messages: over it a POST is answered 429 with
   * `Retry-After` and nothing of it is applied; a POST holding more messages than `burst` is
   * answered 413. `false` turns the limit off.
   * @default { messagesPerSecond: 100, burst: 200 }
   */
  readonly rateLimit?: RateLimitOptions | false;
  /** Milliseconds between keep-alive comment lines on every stream. @default 15000 */
  readonly keepAliveInterval?: number;
  /**
   * Bytes a stream's unsent output may reach before the session is dropped as a slow reader (the
   * client then sees a network failure and resumes from its revision). @default 8388608 (8 MiB)
   */
  readonly maxBufferedBytes?: number;
  /** POSTs of one session waiting to be handled before further ones are answered 429. @default 32 */
  readonly maxQueuedPosts?: number;
  /**
   * Origins allowed to use the endpoints from a browser page: exact `Origin` values, `"*"` for
   * any, or a predicate. Allowed origins get CORS headers and preflight answers; a request whose
   * `Origin` is not allowed is answered 403. Requests without an `Origin` header (non-browser
   * clients, which could forge it anyway) are allowed.
   * @default undefined (no CORS headers; the Origin header is not checked)
   */
  readonly allowedOrigins?: readonly string[] | "*" | ((origin: string, req: IncomingMessage) => boolean);
  /**
   * How long `close()` waits for the hub to finish what sessions already sent (so that their
   * acks go out before the close event) before it closes them anyway. @default 5000
   */
  readonly closeTimeout?: number;
  /** Where to report dropped sessions and internal failures. @default undefined (silent) */
  readonly logger?: Logger;
}

/**
 * A node:http request handler for the SSE binding, usable as `server.on("request", handler)` or
 * as Express/Connect middleware. Returns true when it handled the request; for other paths it
 * calls `next()` when given one (Connect style) and returns false.
 */
export interface SseHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): boolean;
  /** Number of open event streams. */
  readonly sessionCount: number;
  /**
   * Shut down gracefully: refuse new streams and POSTs with 503, wait (up to `closeTimeout`)
   * for the hub to handle what sessions already sent, then end every stream with a close event
   * (code 1001, "server going away"). Safe to call more than once.
   */
  close(): Promise<void>;
}

const JSON_HEADERS = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } as const;
const CORS_REQUEST_HEADERS = "Authorization, Content-Type, Last-Event-ID, X-Session-Id";

/**
 * Bind a hub to node:http: `GET /events` opens a session's event stream (joining `docId` when
 * given), `POST /messages` hands messages to a session. See the package README for the wire
 * details and every status code.
 */
export function createSseHandler(options: SseHandlerOptions): SseHandler {
  const eventsPath = options.eventsPath ?? "/events";
  const messagesPath = options.messagesPath ?? "/messages";
  const maxMessageSize = options.maxMessageSize ?? 1024 * 1024;
  const rateLimit = resolveRateLimit(options.rateLimit);
  const keepAliveInterval = options.keepAliveInterval ?? 15_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const maxQueuedPosts = options.maxQueuedPosts ?? 32;
  const closeTimeout = options.closeTimeout ?? 5_000;
  const { hub, verifyToken, allowedOrigins, logger } = options;
  const sessions = new Map<string, SseSession>();
  // Handler lifecycle: serving -> closing -> closed. From closing on, new streams and POSTs get
  // 503; in closed, no stream is left.
  let state: "serving" | "closing" | "closed" = "serving";
  let closing: Promise<void> | undefined;

  const handler = ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): boolean => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== eventsPath && url.pathname !== messagesPath) {
      next?.();
      return false;
    }
    if (!applyCors(req, res)) return true;
    if (req.method === "OPTIONS") {
      res.writeHead(204).end();
      return true;
    }
    const method = url.pathname === eventsPath ? "GET" : "POST";
    if (req.method !== method) {
      res.setHeader("Allow", `${method}, OPTIONS`);
      refuse(res, { status: 405, code: "bad_message", message: `Use ${method} on ${url.pathname}.` });
      return true;
    }
    const work = method === "GET" ? openStream(req, res, url) : acceptPost(req, res, url);
    work.catch((error: unknown) => {
      logger?.error?.("SSE request failed", { path: url.pathname, error });
      if (!res.headersSent) refuse(res, { status: 500, code: "internal", message: "The server failed; the request was not applied." });
      else if (!res.writableEnded) res.destroy();
    });
    return true;
  }) as SseHandler;

  async function openStream(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (state !== "serving") {
      refuse(res, { status: 503, code: "internal", message: "The server is shutting down; connect again shortly." });
      return;
    }
    const token = extractToken(url, req.headers);
    if (!(await authorized(token, req, res))) return;
    const parsed = parseStreamRequest(url, req.headers);
    if (!parsed.ok) {
      refuse(res, parsed.refusal);
      return;
    }
    // The client may have left while the token was being checked; opening a session then would
    // leak it, since its 'close' event has already fired.
    if (req.destroyed || res.destroyed || state !== "serving") {
      if (!res.headersSent && !res.destroyed) refuse(res, { status: 503, code: "internal", message: "The server is shutting down." });
      return;
    }
    const { docId, clientId, revision, batch } = parsed.params;
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.flushHeaders();
    // Events are small and latency matters more than packet count.
    req.socket.setNoDelay(true);
    const id = randomBytes(24).toString("base64url");
    const session = new SseSession(hub, res, { batch }, {
      id,
      token,
      streamDocId: docId,
      keepAliveInterval,
      maxBufferedBytes,
      maxQueuedPosts,
      rateLimit,
      logger,
      onEnd: (ended) => {
        if (sessions.get(ended.id) === ended) sessions.delete(ended.id);
      },
    });
    if (session.status !== "open") return;
    sessions.set(id, session);
    if (docId !== undefined) {
      session.receive({ type: "join", docId, ...(clientId !== undefined ? { clientId } : {}), ...(revision !== undefined ? { revision } : {}) });
    }
  }

  async function acceptPost(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (state !== "serving") {
      refuse(res, { status: 503, code: "internal", message: "The server is shutting down; the stream will close and you can reconnect." }, closeConnection);
      return;
    }
    const token = extractToken(url, req.headers);
    const sessionId = extractSessionId(url, req.headers);
    const session = sessionId === undefined ? undefined : sessions.get(sessionId);
    // Every refusal before the body is read closes the connection: Node would otherwise read and
    // discard the whole unread body to keep the connection usable, however large it is.
    if (session === undefined) {
      if (!(await authorized(token, req, res, closeConnection))) return;
      if (sessionId === undefined) refuse(res, { status: 400, code: "bad_message", message: "Name the session: send the X-Session-Id header (or ?sessionId=) from the stream's session event." }, closeConnection);
      else refuse(res, { status: 404, code: "not_found", message: "Unknown session: it ended or never existed; open the event stream again." }, closeConnection);
      return;
    }
    const accepted = session.enqueue(async () => {
      if (!(await authorized(token, req, res, closeConnection))) return;
      if (verifyToken !== undefined && token !== session.token) {
        refuse(res, { status: 403, code: "forbidden", message: "This token is not the one the session's stream was opened with; POST with the same token." }, closeConnection);
        return;
      }
      const body = await readBody(req, maxMessageSize);
      if (body.kind === "aborted") return;
      if (body.kind === "too_large") {
        // Reading stopped at the limit, so the connection cannot carry another request.
        refuse(res, { status: 413, code: "too_large", message: `The body holds ${body.bytes} bytes; the limit is ${maxMessageSize}. Send smaller messages.` }, closeConnection);
        return;
      }
      if (body.kind === "bad_utf8") {
        refuse(res, { status: 400, code: "bad_message", message: "The body is not valid UTF-8." });
        return;
      }
      const parsed = parsePostBody(body.text);
      if (!parsed.ok) {
        refuse(res, parsed.refusal);
        return;
      }
      const wait = session.takeTokens(parsed.params.count);
      if (wait === Infinity) {
        refuse(res, { status: 413, code: "too_large", message: `The body holds ${parsed.params.count} messages, more than the rate limit's burst allows in one request; split it.` });
        return;
      }
      if (wait > 0) {
        res.setHeader("Retry-After", String(Math.max(1, Math.ceil(wait / 1000))));
        refuse(res, { status: 429, code: "rate_limited", message: `Too many messages: retry after ${Math.ceil(wait / 1000)} s.` });
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

  /** Run `verifyToken`; answers 401 (or 500 if it threw) and returns false when the request may not go on. */
  async function authorized(
    token: string | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    beforeRefusal?: (res: ServerResponse) => void,
  ): Promise<boolean> {
    if (verifyToken === undefined) return true;
    if (token === undefined) {
      refuse(res, { status: 401, code: "unauthorized", message: "Send a token (Authorization: Bearer, or ?token=)." }, beforeRefusal);
      return false;
    }
    let ok: boolean;
    try {
      ok = await verifyToken(token, req);
    } catch (error) {
      logger?.error?.("verifyToken threw", { error });
      refuse(res, { status: 500, code: "internal", message: "The server could not check the token." }, beforeRefusal);
      return false;
    }
    if (ok !== true) {
      refuse(res, { status: 401, code: "unauthorized", message: "The token was refused." }, beforeRefusal);
      return false;
    }
    return true;
  }

  /** Send CORS headers when configured; returns false after answering 403 for an origin that is not allowed. */
  function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (allowedOrigins === undefined || origin === undefined) return true;
    const allowed =
      allowedOrigins === "*" || (typeof allowedOrigins === "function" ? allowedOrigins(origin, req) : allowedOrigins.includes(origin));
    if (!allowed) {
      refuse(res, { status: 403, code: "forbidden", message: `Origin ${origin} is not allowed.` });
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
  handler.close = (): Promise<void> => {
    closing ??= (async () => {
      state = "closing";
      const open = [...sessions.values()];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, closeTimeout)));
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

function resolveRateLimit(option: RateLimitOptions | false | undefined): TokenBucketOptions | false {
  if (option === false) return false;
  const perSecond = option?.messagesPerSecond ?? 100;
  const burst = option?.burst ?? 200;
  if (!(perSecond > 0) || !(burst >= 1)) {
    throw new RangeError(`rateLimit needs messagesPerSecond > 0 and burst >= 1 (got ${perSecond} and ${burst}); pass false to turn it off.`);
  }
  return { perSecond, burst };
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
