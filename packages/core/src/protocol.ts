import type { ErrorCode } from "./codes.js";

/** Version of the wire protocol these types describe. */
export const PROTOCOL_VERSION = 1;

/** The document a client that names none is joined to, unless the server is configured otherwise. */
export const DEFAULT_DOC_ID = "doc-1";

// ---------------------------------------------------------------- client -> server

/** Start (or restart) receiving a document. */
export interface JoinMessage {
  type: "join";
  docId: string;
  clientId?: string;
  /** Resume after this revision; leave out to get a snapshot. */
  revision?: number;
  /** Opt this connection in to batched (JSON array) frames. */
  batch?: boolean;
}

/** Submit an op based on `revision`. */
export interface OpMessage<Op = unknown> {
  type: "op";
  op: Op;
  revision: number;
  docId?: string;
  clientId?: string;
  seq?: number;
}

/** Stop receiving a document. */
export interface LeaveMessage {
  type: "leave";
  docId: string;
}

/** Application-level heartbeat; answered by `pong` with the same `t`. */
export interface PingMessage {
  type: "ping";
  t?: number | string;
}

/** Any message a client sends. */
export type ClientMessage<Op = unknown> = JoinMessage | OpMessage<Op> | LeaveMessage | PingMessage;

// ---------------------------------------------------------------- server -> client

/** The document as of `revision`. */
export interface SnapshotMessage<Snapshot = unknown> {
  type: "snapshot";
  docId: string;
  revision: number;
  data: Snapshot;
  docType: string;
  /** The last committed `seq` of the joining client in this document, when it has one. */
  lastSeq?: number;
  /** The joining client's own `author` label in this document (what others see on its ops), when it named a `clientId`. */
  author?: string;
}

/** The join is accepted; the ops committed after `revision` follow in order. */
export interface JoinedMessage {
  type: "joined";
  docId: string;
  revision: number;
  /** The joining client's own `author` label in this document, when it named a `clientId`. */
  author?: string;
}

/** The receiver's own op was committed at `revision`. */
export interface AckMessage {
  type: "ack";
  docId: string;
  revision: number;
  seq?: number;
}

/** Another client's op, committed at `revision`. */
export interface RemoteOpMessage<Op = unknown> {
  type: "op";
  docId: string;
  op: Op;
  revision: number;
  /**
   * An opaque label of the client that made the op, stable for that client in this document
   * (never its `clientId`, which is a secret of its client).
   */
  author?: string;
}

/** A request was refused; the document is unchanged. */
export interface ErrorMessage {
  type: "error";
  code: ErrorCode;
  message: string;
  docId?: string;
  seq?: number;
}

/** Answer to `ping`. */
export interface PongMessage {
  type: "pong";
  t?: number | string;
}

/** Any message a server sends. */
export type ServerMessage<Op = unknown, Snapshot = unknown> =
  | SnapshotMessage<Snapshot>
  | JoinedMessage
  | AckMessage
  | RemoteOpMessage<Op>
  | ErrorMessage
  | PongMessage;

/** Any protocol message, in either direction. */
export type ProtocolMessage<Op = unknown, Snapshot = unknown> = ClientMessage<Op> | ServerMessage<Op, Snapshot>;

// ---------------------------------------------------------------- identifiers

/** Longest document id the protocol allows. */
export const MAX_DOC_ID_LENGTH = 256;
/** Longest client id the protocol allows. */
export const MAX_CLIENT_ID_LENGTH = 64;
/** Longest `author` label a client accepts. */
export const MAX_AUTHOR_LENGTH = 256;

const DOC_ID = /^[A-Za-z0-9._~:-]{1,256}$/;
const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** True for a valid document id: 1 to 256 characters from `[A-Za-z0-9._~:-]`. */
export function isValidDocId(value: unknown): value is string {
  return typeof value === "string" && DOC_ID.test(value);
}

/** True for a valid client id: 1 to 64 characters from `[A-Za-z0-9_-]`. */
export function isValidClientId(value: unknown): value is string {
  return typeof value === "string" && CLIENT_ID.test(value);
}

/** True for a valid `author` label: a non-empty string of at most 256 characters (its content is opaque). */
export function isValidAuthor(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_AUTHOR_LENGTH;
}

/** True for a valid `seq`: a positive safe integer. */
export function isValidSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/** True for a valid revision: a non-negative safe integer. */
export function isValidRevision(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/** A fresh random client id (22 characters, 132 bits) from the platform's crypto RNG. */
export function randomClientId(length = 22): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let id = "";
  for (const b of bytes) id += ID_ALPHABET[b & 63];
  return id;
}
