import type { OTType } from "@open-ot/core";

/**
 * Name of an OT client state.
 *
 * ```
 * synchronized --submit--> awaitingConfirm --submit--> awaitingWithBuffer --submit--> (same, buffer composed)
 *      ^                        |    ^                        |
 *      +---------ack------------+    +----------ack-----------+   (the buffer is sent as a new op, new seq)
 * ```
 * Remote ops keep the state and transform what it holds.
 */
export type SyncStateName = "synchronized" | "awaitingConfirm" | "awaitingWithBuffer";

/** An op sent to the server and not yet acknowledged, with the `seq` it was first sent under. */
export interface PendingOp<Op> {
  /** The op, as transformed since it was first sent; based on the client's current revision. */
  readonly op: Op;
  /** The `seq` this op travels under; never reused for other edits (ShareDB PR #327). */
  readonly seq: number;
}

/** What a state needs from the client to act: the type, fresh `seq`s and a way to send. */
export interface StateContext<Snapshot, Op> {
  readonly type: OTType<Snapshot, Op>;
  /** A new `seq`, one above the last one used. */
  nextSeq(): number;
  /** Send `pending` to the server, based on the client's current revision. */
  sendOp(pending: PendingOp<Op>): void;
}

/** A remote op applied to a state: the successor state and the op to apply to the local view. */
export interface RemoteOpResult<Op> {
  readonly state: ClientState<Op>;
  /** The remote op transformed against the pending op and the buffer. */
  readonly op: Op;
}

/**
 * One state of the OT client (ot.js `lib/client.js` style): each event returns the successor
 * state, and an event that cannot happen in a state throws.
 */
export interface ClientState<Op> {
  readonly name: SyncStateName;
  /** The op in flight, if any. */
  readonly pending: PendingOp<Op> | undefined;
  /** Local edits made while an op was in flight, composed into one; not sent yet. */
  readonly buffer: Op | undefined;
  /** A local edit, already applied to the view. */
  applyClient<S>(op: Op, ctx: StateContext<S, Op>): ClientState<Op>;
  /** A remote op committed right after the client's current revision. */
  applyServer<S>(op: Op, type: OTType<S, Op>): RemoteOpResult<Op>;
  /** The server committed the pending op. */
  serverAck<S>(ctx: StateContext<S, Op>): ClientState<Op>;
  /** After a (re)join: send the op in flight again, unchanged but for transformation. */
  resend<S>(ctx: StateContext<S, Op>): void;
}

/** Thrown by a state for an event that cannot happen in it (a bug, or a server breaking the protocol). */
export class ImpossibleTransitionError extends Error {
  override readonly name = "ImpossibleTransitionError";
  constructor(state: SyncStateName, event: string) {
    super(`OT client: "${event}" cannot happen in state "${state}"`);
  }
}

/**
 * Transform the client's own unacknowledged ops (oldest first) and a remote op past each other.
 * Ties follow docs/protocol.md "Ties": the remote op was committed first, so the client's ops
 * go on the `right` and the remote op on the `left`.
 */
export function transformPast<S, Op>(type: OTType<S, Op>, own: readonly Op[], remote: Op): { own: Op[]; remote: Op } {
  const transformed: Op[] = [];
  let current = remote;
  for (const op of own) {
    transformed.push(type.transform(op, current, "right"));
    current = type.transform(current, op, "left");
  }
  return { own: transformed, remote: current };
}
