import type { ServerMessage } from "@open-ot/core";
import type { HubConnection } from "../src/hub-types.js";
import { waitUntil } from "@open-ot/harness";

/**
 * A HubConnection that records what the hub sends (JSON round-tripped, as a wire would) and
 * lets a test wait for messages in order.
 */
export class RecordingConnection implements HubConnection {
  /** Every send: a message, or an array for batched frames. */
  readonly frames: (ServerMessage | ServerMessage[])[] = [];
  /** Every message, batches flattened, in order. */
  readonly messages: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  /** How far {@link next} has read. */
  private read = 0;

  send(message: ServerMessage | readonly ServerMessage[]): void {
    const copy = JSON.parse(JSON.stringify(message)) as ServerMessage | ServerMessage[];
    this.frames.push(copy);
    for (const m of Array.isArray(copy) ? copy : [copy]) this.messages.push(m);
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  /** The next unread message (waiting for it). */
  async next(what = "the next message"): Promise<ServerMessage> {
    await waitUntil(() => this.messages.length > this.read, what);
    return this.messages[this.read++] as ServerMessage;
  }

  /** The next `count` unread messages. */
  async take(count: number, what = `${count} messages`): Promise<ServerMessage[]> {
    await waitUntil(() => this.messages.length >= this.read + count, what);
    const out = this.messages.slice(this.read, this.read + count);
    this.read += count;
    return out;
  }

  /** Unread messages so far (without waiting). */
  unread(): ServerMessage[] {
    const out = this.messages.slice(this.read);
    this.read = this.messages.length;
    return out;
  }
}
