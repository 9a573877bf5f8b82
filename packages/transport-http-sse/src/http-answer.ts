import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorCode, Logger } from "@open-ot/core";
import { readBody } from "./read-body.js";
import type { RequestRefusal } from "./request-params.js";

const JSON_HEADERS = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } as const;

/** A refusal as a POST answers it: the HTTP status, the protocol error, and `Retry-After` for 429. */
export interface PostRefusal extends RequestRefusal {
  readonly retryAfterMs?: number;
}

/** A POST whose token is not the one its session's stream was opened with. */
export const TOKEN_MISMATCH: PostRefusal = {
  status: 403,
  code: "forbidden",
  message: "This token is not the one the session's stream was opened with; POST with the same token.",
};

/** `Retry-After` in whole seconds, at least 1. */
export function retryAfterSeconds(ms: number | undefined): string {
  return String(Math.max(1, Math.ceil((ms ?? 1000) / 1000)));
}

/** Ask the client to close the connection after this answer. */
export function closeConnection(res: ServerResponse): void {
  res.setHeader("Connection", "close");
}

/** Answer with an HTTP error status and a protocol error as the JSON body. */
export function refuse(res: ServerResponse, refusal: RequestRefusal, beforeWrite?: (res: ServerResponse) => void): void {
  if (res.headersSent || res.destroyed) return;
  beforeWrite?.(res);
  const body: { type: "error"; code: ErrorCode; message: string } = { type: "error", code: refusal.code, message: refusal.message };
  res.writeHead(refusal.status, JSON_HEADERS).end(JSON.stringify(body));
}

/** Answer a POST: 202 with nothing when `refusal` is undefined, else the refusal (with `Retry-After` when it has one). */
export function answerPost(res: ServerResponse, refusal: PostRefusal | undefined, beforeWrite?: (res: ServerResponse) => void): void {
  if (refusal === undefined) {
    if (!res.headersSent && !res.destroyed) res.writeHead(202, { "Cache-Control": "no-store", "Content-Length": "0" }).end();
    return;
  }
  if (refusal.retryAfterMs !== undefined && !res.headersSent) res.setHeader("Retry-After", retryAfterSeconds(refusal.retryAfterMs));
  refuse(res, refusal, beforeWrite);
}

/** Limits of {@link readPostBody}. */
export interface BodyLimits {
  readonly maxMessageBytes: number;
  readonly bodyTimeoutMs: number;
  readonly logger: Logger | undefined;
}

/** What {@link readPostBody} found: the text, the refusal to answer (closing the connection when `close`), or nothing (the client left). */
export type PostBody = { readonly text: string } | { readonly refusal: PostRefusal; readonly close: boolean } | undefined;

/** Read a POST body within the limits. */
export async function readPostBody(req: IncomingMessage, limits: BodyLimits, context: object): Promise<PostBody> {
  const { maxMessageBytes, bodyTimeoutMs } = limits;
  const body = await readBody(req, maxMessageBytes, bodyTimeoutMs);
  switch (body.kind) {
    case "ok":
      return { text: body.text };
    case "aborted":
      return undefined;
    case "too_large":
      // Reading stopped at the limit, so the connection cannot carry another request.
      return {
        refusal: {
          status: 413,
          code: "too_large",
          message: `The body holds ${body.bytes} bytes; the limit is ${maxMessageBytes}. Send smaller messages.`,
        },
        close: true,
      };
    case "timeout":
      limits.logger?.warn?.("SSE POST body too slow; answered 408", { ...context, bytes: body.bytes });
      return {
        refusal: {
          status: 408,
          code: "bad_message",
          message: `The body did not arrive whole within ${bodyTimeoutMs} ms; nothing of it was applied.`,
        },
        close: true,
      };
    case "bad_utf8":
      return { refusal: { status: 400, code: "bad_message", message: "The body is not valid UTF-8." }, close: false };
  }
}
