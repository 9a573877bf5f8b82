import type { OTType } from "@open-ot/core";
import { AwaitingConfirm } from "./awaiting-confirm.js";
import { ImpossibleTransitionError, type ClientState, type RemoteOpResult, type StateContext } from "./client-state.js";

/** Nothing in flight: the view equals the server document at the client's revision. */
export class Synchronized<Op> implements ClientState<Op> {
  readonly name = "synchronized" as const;
  readonly pending = undefined;
  readonly buffer = undefined;

  /** A local edit is sent at once under a new `seq`. */
  applyClient<S>(op: Op, ctx: StateContext<S, Op>): ClientState<Op> {
    const pending = { op, seq: ctx.nextSeq() };
    ctx.sendOp(pending);
    return new AwaitingConfirm(pending);
  }

  /** A remote op applies to the view as it is. */
  applyServer<S>(op: Op, _type: OTType<S, Op>): RemoteOpResult<Op> {
    return { state: this, op };
  }

  serverAck<S>(_ctx: StateContext<S, Op>): ClientState<Op> {
    throw new ImpossibleTransitionError(this.name, "ack");
  }

  /** Nothing to resend. */
  resend<S>(_ctx: StateContext<S, Op>): void {}
}
