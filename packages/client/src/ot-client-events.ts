import type { PeerPresenceView } from "./presence-tracker.js";
import type { ErrorCode } from "@open-ot/core";
import type { SyncStateName } from "./client-state.js";
import type { ClientErrorCode, OTClientError } from "./ot-client-error.js";

/**
 * The client's connection lifecycle (independent of its OT state):
 *
 * ```
 * offline --connect()--> connecting --transport open, join sent--> joining --snapshot/joined--> live
 * live --revision gap, op refused (final code), reconnection of a HandshakeCapable transport--> joining
 * joining | live --join or op refused with a transient code--> waiting --timer, retryNow(), reconnection--> joining
 * joining --join refused (final code)--> refused --connect(), reconnection--> joining
 * joining --the server lost the document--> lost --restore() (or at once: restore "auto"), adoptServerCopy()--> joining
 * every state but offline --connection lost, disconnect()--> offline
 * ```
 *
 * Only `live` means edits are being committed: in every other state local edits are kept
 * (and shown) and sent once the client is live again.
 */
export type ConnectionState = "offline" | "connecting" | "joining" | "live" | "waiting" | "refused" | "lost";

/** A document the server no longer has as the client knows it (status `lost`). */
export interface LostDocument {
  /**
   * The server's revision of the document: `null` when it does not exist, `undefined` when the
   * server did not say (a server without the v1.1 field).
   */
  readonly serverRevision: number | null | undefined;
  /** The revision of the client's copy (the last one it received). */
  readonly revision: number;
  /**
   * True while the client can offer its copy to recreate the document ({@link OTClient.restore}).
   * False once a restore was refused: the server holds another document under this id (created
   * afresh while this client was away), and only the application can choose between the two.
   */
  readonly restorable: boolean;
  /** True when the client holds edits the server has not acknowledged (kept, and sent after a restore). */
  readonly unacknowledged: boolean;
}

/**
 * The connection state with what a UI needs to say about it: when the next retry is due, what
 * the application must do after a final refusal, what was lost. `reason` is always a sentence.
 */
export type OTClientStatus =
  | { readonly state: "offline" | "connecting" | "live"; readonly reason: string }
  | {
      readonly state: "joining";
      readonly reason: string;
      /** The join offers the client's copy to recreate a lost document. */
      readonly restoring: boolean;
    }
  | {
      readonly state: "waiting";
      readonly reason: string;
      /** The transient code of the refusal (`unavailable`: the server's storage cannot be reached). */
      readonly code: ErrorCode;
      /** Retries in a row so far, counted from 1. */
      readonly attempt: number;
      /** When the next try is due (epoch milliseconds); `retryNow()` tries at once. */
      readonly nextRetryAt: number;
    }
  | {
      readonly state: "refused";
      readonly reason: string;
      /** The final code. */
      readonly code: ClientErrorCode;
      /** What the application must do; the client does not retry by itself. */
      readonly action: string;
    }
  | ({ readonly state: "lost"; readonly reason: string } & LostDocument);

/** How a lost document came back (the `restored` event). */
export interface RestoredEvent {
  /**
   * `restored`: the server recreated the document from this client's copy; `rebased`: from
   * another client's copy, onto which this client's unacknowledged edits were rebased;
   * `adopted`: the application chose the server's document and this client's copy was dropped.
   */
  readonly outcome: "restored" | "rebased" | "adopted";
  /** The document's revision now. */
  readonly revision: number;
  /** The revision of the client's copy before. */
  readonly previousRevision: number;
}

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
  | "protocol_violation"
  /** The document was lost: the join offers the client's copy to recreate it. */
  | "restore"
  /** The document was lost and the application chose the server's document. */
  | "adopt";

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
  /**
   * Other clients' presence changed (with the `presence` option): who is here, with ranges
   * mapped into the local view (the same as `client.presence`).
   */
  presence: ReadonlyMap<string, PeerPresenceView>;
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
  /** The status changed (its state, or what it says: the next retry time, the refusal, the loss). */
  status: OTClientStatus;
  /** The server lost the document (status `lost`); the client keeps its copy and its edits. */
  lost: LostDocument;
  /** A lost document is back (restored from this client's copy or another's, or adopted). */
  restored: RestoredEvent;
}
