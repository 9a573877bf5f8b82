import type { ErrorCode } from "./codes.js";
import type { PresenceMessage, PresenceUpdateMessage } from "./presence.js";

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
  /**
   * The epoch (life) of the document that `revision` belongs to, as the server last named it in
   * a `snapshot` or `joined`. A join that carries one never creates a document: the client holds
   * a copy of one that existed. See docs/protocol.md, "Lost documents and restore".
   */
  epoch?: string;
  /**
   * Optional extension: the client's copy of the document at `revision`, to recreate the
   * document from if the server has lost it (docs/protocol.md, "Lost documents and restore").
   * Only with `revision`; servers without the extension ignore it.
   */
  restore?: RestoreCopy;
  /**
   * Optional extension: receive the document's presence (docs/protocol.md, "Presence"): a full
   * `presence` message after the answer, then updates. Servers without it ignore the field.
   */
  presence?: boolean;
}

/** A client's copy of a document, carried by a restoring `join`. */
export interface RestoreCopy<Snapshot = unknown> {
  /** The document as of the join's `revision`: what the server had committed, without the client's unacknowledged edits. */
  data: Snapshot;
  /**
   * The highest `seq` the client saw committed for each `author` (from `op` messages), so the
   * server can tell a rejoining client that an op it never got the ack for is in the copy.
   */
  seqs?: Record<string, number>;
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
export type ClientMessage<Op = unknown> = JoinMessage | OpMessage<Op> | LeaveMessage | PingMessage | PresenceMessage;

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
  /** The document's epoch (changes whenever the document is created anew); send it back in later joins. */
  epoch?: string;
  /** The joining client's own `author` label in this document (what others see on its ops), when it named a `clientId`. */
  author?: string;
}

/** The join is accepted; the ops committed after `revision` follow in order. */
export interface JoinedMessage {
  type: "joined";
  docId: string;
  revision: number;
  /** The document's epoch, when the server has them (see {@link SnapshotMessage.epoch}). */
  epoch?: string;
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
  /** The submitter's `seq` for this op, when it had one (with `author`, what a restore copy's `seqs` are made of). */
  seq?: number;
}

/** A request was refused; the document is unchanged. */
export interface ErrorMessage {
  type: "error";
  code: ErrorCode;
  message: string;
  docId?: string;
  seq?: number;
  /**
   * With `bad_revision` for a revision ahead of the document (the server lost commits): the
   * document's current revision, or `null` when it does not exist.
   */
  serverRevision?: number | null;
}

/** Answer to `ping`. */
export interface PongMessage {
  type: "pong";
  t?: number | string;
}

/** Any message a server sends. */
export type ServerMessage<Op = unknown, Snapshot = unknown> =
  SnapshotMessage<Snapshot> | JoinedMessage | AckMessage | RemoteOpMessage<Op> | ErrorMessage | PongMessage | PresenceUpdateMessage;

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

/** True for a valid document epoch: 1 to 64 characters from `[A-Za-z0-9_-]` (the client id alphabet). */
export function isValidEpoch(value: unknown): value is string {
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
  for (const b of bytes) id += ID_ALPHABET.charAt(b & 63);
  return id;
}
