import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/** What the binding reads from an upgrade request before deciding whether to upgrade it. */
export interface UpgradeRequestInfo {
  readonly pathname: string;
  readonly query: URLSearchParams;
  /** From `Authorization: Bearer <token>`, else the `token` query parameter. */
  readonly token: string | undefined;
  /** The `Origin` header (browsers always send it; other clients usually do not). */
  readonly origin: string | undefined;
}

const BEARER = /^Bearer\s+(.+)$/i;

/** Read path, query, token and origin from an upgrade request; never throws. */
export function readUpgradeRequest(request: IncomingMessage): UpgradeRequestInfo {
  let url: URL;
  try {
    // Only the path and query matter; the base is a placeholder for URL's parser.
    url = new URL(request.url ?? "/", "http://placeholder");
  } catch {
    url = new URL("http://placeholder/invalid-request-target");
  }
  const header = request.headers.authorization;
  const bearer = typeof header === "string" ? BEARER.exec(header.trim())?.[1] : undefined;
  const queryToken = url.searchParams.get("token") ?? undefined;
  const origin = request.headers.origin;
  return {
    pathname: url.pathname,
    query: url.searchParams,
    token: bearer ?? (queryToken === "" ? undefined : queryToken),
    origin: typeof origin === "string" ? origin : undefined,
  };
}

/**
 * Answer an upgrade request with a plain HTTP error instead of upgrading it, then close the
 * socket. `message` says what to change; it ends up in the client's error.
 */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "Connection: close\r\n" +
      "Cache-Control: no-store\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
  );
}
