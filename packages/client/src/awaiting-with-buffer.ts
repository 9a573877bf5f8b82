import type { OTType } from "@open-ot/core";
import { AwaitingConfirm } from "./awaiting-confirm.js";
import { transformPast, type ClientState, type PendingOp, type RemoteOpResult, type StateContext } from "./client-state.js";

/** One op in flight, and local edits made since, composed into a buffer that is not sent yet. */
export class AwaitingWithBuffer<Op> implements ClientState<Op> {
  readonly name = "awaitingWithBuffer" as const;

  constructor(
    readonly pending: PendingOp<Op>,
    readonly buffer: Op,
  ) {}

  /** Only the buffer is composed; the op in flight keeps exactly what its `seq` named. */
  applyClient<S>(op: Op, ctx: StateContext<S, Op>): ClientState<Op> {
    return new AwaitingWithBuffer(this.pending, ctx.type.compose(this.buffer, op));
  }

  applyServer<S>(op: Op, type: OTType<S, Op>): RemoteOpResult<Op> {
    const { own, remote } = transformPast(type, [this.pending.op, this.buffer], op);
    return {
      state: new AwaitingWithBuffer({ op: own[0] as Op, seq: this.pending.seq }, own[1] as Op),
      op: remote,
    };
  }

  /** The buffer becomes the op in flight, as a new op with a new `seq`. */
  serverAck<S>(ctx: StateContext<S, Op>): ClientState<Op> {
    const pending = { op: this.buffer, seq: ctx.nextSeq() };
    ctx.sendOp(pending);
    return new AwaitingConfirm(pending);
  }

  /** Only the op in flight is resent; the buffer waits for its ack. */
  resend<S>(ctx: StateContext<S, Op>): void {
    ctx.sendOp(this.pending);
  }
}
