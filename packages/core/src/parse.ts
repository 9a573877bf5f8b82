// PLACEHOLDER: the core helper replaces this file with the real validation.
import type { ErrorCode } from "./codes.js";
import type { ClientMessage, ServerMessage } from "./protocol.js";

/** Why untrusted input was refused, as the `error` message the server would send. */
export interface ProtocolError {
  code: ErrorCode;
  message: string;
  docId?: string;
  seq?: number;
}

/** The outcome of parsing untrusted input. */
export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: ProtocolError };

/** Parse one client message from JSON text or an already-parsed value. */
export function parseClientMessage(_input: unknown): ParseResult<ClientMessage> {
  throw new Error("not implemented");
}

/** Parse one server message from JSON text or an already-parsed value. */
export function parseServerMessage(_input: unknown): ParseResult<ServerMessage> {
  throw new Error("not implemented");
}

/** Alias of {@link parseClientMessage}: what a server runs on every inbound message. */
export const parseMessage = parseClientMessage;
