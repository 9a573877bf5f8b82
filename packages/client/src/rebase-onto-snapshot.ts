import type { OTType } from "@open-ot/core";
import type { PendingOp } from "./client-state.js";

/** Computes an op that turns `from` into `to` (for text, core's `diffText`). */
export type DiffFunction<Snapshot, Op> = (from: Snapshot, to: Snapshot) => Op;

/** What the client knew when a snapshot replaced its document. */
export interface RebaseInput<Snapshot, Op> {
  readonly type: OTType<Snapshot, Op>;
  /** How to compute the remote change; without it, local edits cannot be kept. */
  readonly diff: DiffFunction<Snapshot, Op> | undefined;
  /** The server document at the client's revision, as the client last saw it. */
  readonly server: Snapshot;
  /** The op in flight, based on `server`. */
  readonly pending: PendingOp<Op> | undefined;
  /** Unsent local edits, based on `server` plus `pending`. */
  readonly buffer: Op | undefined;
  /** The new document. */
  readonly snapshot: Snapshot;
  /** The snapshot's `lastSeq` for this client. */
  readonly lastSeq: number | undefined;
  /** Discard the local edits even if they could be rebased (they were refused before). */
  readonly discard: boolean;
}

/** The client's new position after a snapshot. */
export interface RebaseResult<Snapshot, Op> {
  /** The new local view: the snapshot plus the rebased unacknowledged edits. */
  readonly view: Snapshot;
  /** True when the snapshot's `lastSeq` shows the op in flight was committed. */
  readonly pendingCommitted: boolean;
  /** The unacknowledged edits, rebased onto the snapshot; to send based on its revision. */
  readonly unacked: Op | undefined;
  /**
   * The `seq` to send `unacked` under: the op in flight's own `seq` when it was not committed
   * (docs/protocol.md "Joining and resuming": one op under the same `seq`, so an old copy still on its way cannot
   * commit as well), `undefined` when `unacked` is new work that needs a new `seq`.
   */
  readonly seq: number | undefined;
  /** Local edits that were discarded (composed), when they could not be kept. */
  readonly dropped: Op | undefined;
}

/**
 * Rebase the client's unacknowledged edits onto a snapshot that replaces its document.
 *
 * The remote change is `diff(serverAsTheClientSawIt [+ pending, if committed], snapshot)`, and
 * the client's edits are transformed against it on the `right` (the remote change was
 * committed first). A type without a diff cannot say where the edits land, so they are dropped.
 */
export function rebaseOntoSnapshot<Snapshot, Op>(input: RebaseInput<Snapshot, Op>): RebaseResult<Snapshot, Op> {
  const { type, pending, buffer, snapshot } = input;
  const pendingCommitted = pending !== undefined && input.lastSeq !== undefined && input.lastSeq >= pending.seq;

  let base = input.server;
  let unacked: Op | undefined;
  if (pending === undefined) {
    unacked = buffer;
  } else if (pendingCommitted) {
    // The snapshot holds the op in flight: only the buffer is still ours to send.
    base = type.apply(base, pending.op);
    unacked = buffer;
  } else {
    unacked = buffer === undefined ? pending.op : type.compose(pending.op, buffer);
  }

  const nothing = { view: snapshot, pendingCommitted, unacked: undefined, seq: undefined };
  if (unacked === undefined) return { ...nothing, dropped: undefined };
  if (input.discard || input.diff === undefined) return { ...nothing, dropped: unacked };

  const remote = input.diff(base, snapshot);
  const rebased = type.transform(unacked, remote, "right");
  return {
    view: type.apply(snapshot, rebased),
    pendingCommitted,
    unacked: rebased,
    seq: pending !== undefined && !pendingCommitted ? pending.seq : undefined,
    dropped: undefined,
  };
}
