import { CloseCode } from "@open-ot/core";
import { WebSocket } from "ws";

/** The close reason sent when a message arrives in more pieces than the server buffers. */
export const TOO_MANY_FRAGMENTS_REASON = "message too big: too many fragments";

/**
 * The server's WebSocket class. `ws` closes a connection whose message comes in more than
 * `maxFragments` frames (or more buffered chunks than it allows) with 1008 and no reason;
 * 1008 tells a reconnecting client that its origin or behaviour is refused. The message was
 * too big in pieces rather than in bytes, so it is closed with 1009 instead, which the close
 * policy reports as "send smaller messages". `ws` makes exactly these closes with a code and no
 * reason; every close of the binding carries a reason.
 */
export class BoundedWebSocket extends WebSocket {
  override close(code?: number, data?: string | Buffer): void {
    if (code === CloseCode.POLICY_VIOLATION && data === undefined) {
      super.close(CloseCode.MESSAGE_TOO_BIG, TOO_MANY_FRAGMENTS_REASON);
      return;
    }
    super.close(code, data);
  }
}
