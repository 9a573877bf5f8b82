import type { OTType } from "@open-ot/core";
import { AwaitingWithBuffer } from "./awaiting-with-buffer.js";
import { transformPast, type ClientState, type PendingOp, type RemoteOpResult, type StateContext } from "./client-state.js";
import { Synchronized } from "./synchronized.js";

/** One op in flight, nothing else unacknowledged. */
export class AwaitingConfirm<Op> implements ClientState<Op> {
  readonly name = "awaitingConfirm" as const;
  readonly buffer = undefined;

  constructor(readonly pending: PendingOp<Op>) {}

  /**
   * A local edit starts the buffer. It is never folded into the op in flight: that op may
   * already be committed under its `seq`, and a copy carrying more would be dropped as a
   * duplicate, losing the new edit (ShareDB PR #327).
   */
  applyClient<S>(op: Op, _ctx: StateContext<S, Op>): ClientState<Op> {
    return new AwaitingWithBuffer(this.pending, op);
  }

  applyServer<S>(op: Op, type: OTType<S, Op>): RemoteOpResult<Op> {
    const { own, remote } = transformPast(type, [this.pending.op], op);
    return { state: new AwaitingConfirm({ op: own[0] as Op, seq: this.pending.seq }), op: remote };
  }

  serverAck<S>(_ctx: StateContext<S, Op>): ClientState<Op> {
    return new Synchronized();
  }

  resend<S>(ctx: StateContext<S, Op>): void {
    ctx.sendOp(this.pending);
  }
}
