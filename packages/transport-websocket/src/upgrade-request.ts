import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Refusal, RequestCredentials } from "@open-ot/server";

const BEARER = /^Bearer\s+(.+)$/i;

/** The token (`Authorization: Bearer`, else the `token` query parameter) and origin of an upgrade request. */
export function readUpgradeCredentials(request: IncomingMessage, query: URLSearchParams): RequestCredentials {
  const header = request.headers.authorization;
  const bearer = typeof header === "string" ? BEARER.exec(header.trim())?.[1] : undefined;
  const queryToken = query.get("token") ?? undefined;
  const origin = request.headers.origin;
  return {
    token: bearer ?? (queryToken === "" ? undefined : queryToken),
    origin: typeof origin === "string" ? origin : undefined,
  };
}

/**
 * Answer an upgrade request with a plain HTTP error instead of upgrading it, then close the
 * socket. The refusal's message says what to change; it ends up in the client's error.
 */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${refusal.message}\n`;
  const retryAfter = refusal.retryAfterMs === undefined ? "" : `Retry-After: ${Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))}\r\n`;
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? "Error"}\r\n` +
      "Connection: close\r\n" +
      "Cache-Control: no-store\r\n" +
      retryAfter +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
      body,
  );
}
