import type { IncomingHttpHeaders } from "node:http";
import { isValidClientId, isValidDocId, type ErrorCode } from "@open-ot/core";

/** The join an event-stream request asks for, read from its URL and headers. */
export interface StreamRequestParams {
  /** The document to join at once; absent for a stream that joins documents later by POST. */
  readonly docId?: string;
  readonly clientId?: string;
  /** Resume after this revision (`Last-Event-ID` when present, else the `revision` parameter). */
  readonly revision?: number;
  /** The connection opted in to batched events. */
  readonly batch: boolean;
}

/** A request refused before anything was opened: the HTTP status and the protocol error. */
export interface RequestRefusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
}

/** The outcome of reading a request's parameters. */
export type ParamsResult<T> = { readonly ok: true; readonly params: T } | { readonly ok: false; readonly refusal: RequestRefusal };

const REVISION = /^(?:0|[1-9][0-9]*)$/;

/**
 * Read `GET /events?docId=ID&clientId=C&revision=L&batch=1` and the `Last-Event-ID` header.
 *
 * Every check here runs before the stream is opened, so a bad request gets an HTTP 400 with
 * nothing opened and no session created.
 */
export function parseStreamRequest(query: URLSearchParams, headers: IncomingHttpHeaders): ParamsResult<StreamRequestParams> {
  const docId = query.get("docId");
  const clientId = query.get("clientId");
  const revisionText = query.get("revision");
  const lastEventId = headerValue(headers, "last-event-id");
  const batchText = query.get("batch");

  if (docId !== null && !isValidDocId(docId)) {
    return refuse(400, "bad_message", `docId ${describe(docId)} is not valid: use 1 to 256 characters from [A-Za-z0-9._~:-].`);
  }
  if (clientId !== null && !isValidClientId(clientId)) {
    return refuse(400, "bad_message", `clientId ${describe(clientId)} is not valid: use 1 to 64 characters from [A-Za-z0-9_-].`);
  }
  if (docId === null && (clientId !== null || revisionText !== null)) {
    return refuse(400, "bad_message", "clientId and revision on the event stream need a docId to join; add docId or join by POST.");
  }

  let revision: number | undefined;
  // A browser's automatic reconnect keeps the URL it started with (and so its first revision)
  // but sends the id of the last event it saw, which is the newer position: it wins.
  const resumeText = lastEventId ?? revisionText;
  if (resumeText !== null && docId !== null) {
    const value = Number(resumeText);
    if (!REVISION.test(resumeText) || !Number.isSafeInteger(value)) {
      const source = lastEventId !== null ? "Last-Event-ID" : "revision";
      return refuse(400, "bad_revision", `${source} ${describe(resumeText)} is not a non-negative integer revision.`);
    }
    revision = value;
  }

  let batch: boolean;
  if (batchText === null || batchText === "0" || batchText === "false") batch = false;
  else if (batchText === "1" || batchText === "true") batch = true;
  else return refuse(400, "bad_message", `batch ${describe(batchText)} is not valid: use batch=1 or leave it out.`);

  return {
    ok: true,
    params: {
      ...(docId !== null ? { docId } : {}),
      ...(clientId !== null ? { clientId } : {}),
      ...(revision !== undefined ? { revision } : {}),
      batch,
    },
  };
}

/**
 * The credentials of a request: an `Authorization: Bearer` header, else the `token` query
 * parameter (which is all a browser's EventSource can send).
 */
export function extractToken(query: URLSearchParams, headers: IncomingHttpHeaders): string | undefined {
  const authorization = headerValue(headers, "authorization");
  if (authorization !== null) {
    const match = /^Bearer[ \t]+(.+)$/i.exec(authorization.trim());
    if (match?.[1] !== undefined) return match[1];
  }
  return query.get("token") ?? undefined;
}

/** The session a `POST /messages` names: the `X-Session-Id` header, else the `sessionId` query parameter. */
export function extractSessionId(query: URLSearchParams, headers: IncomingHttpHeaders): string | undefined {
  return headerValue(headers, "x-session-id") ?? query.get("sessionId") ?? undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

function refuse<T>(status: number, code: ErrorCode, message: string): ParamsResult<T> {
  return { ok: false, refusal: { status, code, message } };
}

/** Quote a client-supplied value for an error message without echoing kilobytes of it. */
function describe(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
}
