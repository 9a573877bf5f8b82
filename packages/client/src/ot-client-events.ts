import type { SyncStateName } from "./client-state.js";
import type { OTClientError } from "./ot-client-error.js";

/**
 * The client's connection lifecycle (independent of its OT state):
 *
 * ```
 * offline --connect()--> connecting --transport open, join sent--> joining --snapshot/joined--> live
 * live --revision gap, refused op, or a reconnection of a HandshakeCapable transport--> joining
 * joining --join refused (error)--> refused --connect()--> joining
 * connecting | joining | live | refused --connection lost, disconnect()--> offline
 * ```
 */
export type ConnectionState = "offline" | "connecting" | "joining" | "live" | "refused";

/** Why the client asked the server for a fresh join. */
export type JoinReason =
  /** `connect()`. */
  | "connect"
  /** The transport reconnected by itself and ran the client's handshake. */
  | "reconnect"
  /** An `ack` or `op` skipped a revision: rejoin from the client's revision. */
  | "gap"
  /**
   * The server refused the op in flight: rejoin from the client's revision and resend when the
   * refusal is transient (`resync_required`, `internal`, `rate_limited`...), resync from a
   * snapshot when it is about the op's content (`invalid_op`, `bad_revision`, `bad_message`,
   * `too_large`).
   */
  | "op_refused"
  /** The server broke the protocol (an ack with nothing pending...): resync from a snapshot. */
  | "protocol_violation";

/** A snapshot replaced a document the client already had. */
export interface ResyncEvent<Op> {
  /** What led to the join that the snapshot answered. */
  readonly reason: JoinReason;
  /** The error that caused it, for `op_refused` and `protocol_violation`. */
  readonly error: OTClientError | undefined;
  /** The snapshot's revision, now the client's revision. */
  readonly revision: number;
  /** The client's revision before. */
  readonly previousRevision: number;
  /** True when the snapshot showed (through `lastSeq`) that the op in flight had been committed. */
  readonly pendingCommitted: boolean;
  /**
   * Local edits that could not be kept (the type has no diff, or the server refused them
   * twice), composed into one op; `undefined` when every edit was kept.
   */
  readonly dropped: Op | undefined;
}

/** A remote op for the view. */
export interface RemoteOpEvent<Op> {
  /** The op transformed against the client's unacknowledged edits: apply it to the view as is. */
  readonly op: Op;
  /** The revision the op was committed at. */
  readonly revision: number;
  /**
   * An opaque label of the client that made it, stable for that client in this document, when
   * the server said (servers never reveal another client's `clientId`).
   */
  readonly author: string | undefined;
}

/** The events of {@link OTClient} and their payloads. */
export interface OTClientEvents<Snapshot, Op> {
  /** Another client's op, transformed for the local view: apply it to the editor. */
  remoteOp: RemoteOpEvent<Op>;
  /** The whole document was replaced (first join, or a resync): replace the editor's content. */
  snapshot: { readonly snapshot: Snapshot; readonly revision: number };
  /** One of this client's ops was committed. */
  ack: { readonly revision: number; readonly seq: number };
  /** The OT state changed. */
  state: SyncStateName;
  /** Whether everything local is acknowledged (true) or something is pending (false); emitted on change. */
  synced: boolean;
  /** A snapshot replaced the document after a refusal, a gap, or a lost history. */
  resync: ResyncEvent<Op>;
  /** Something went wrong; `code` says what. The client keeps running. */
  error: OTClientError;
  /** The connection lifecycle changed. */
  connection: ConnectionState;
}
