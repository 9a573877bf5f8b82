// Test helper: a minimal protocol client on a Hub session that records every ack and op it gets
// and checks the protocol's order guarantee as messages arrive.
import type { ServerMessage } from "@open-ot/core";
import type { Hub, HubConnection, HubSession } from "@open-ot/server";
import { waitUntil } from "@open-ot/harness";

export class ProtocolClient implements HubConnection {
  readonly messages: ServerMessage[] = [];
  /** Revisions of the acks and ops received since the snapshot, in arrival order. */
  readonly revisions: number[] = [];
  /** Seqs of the acks received. */
  readonly acked: number[] = [];
  /** Order violations seen (guarantee 1): empty when all is well. */
  readonly violations: string[] = [];
  /** The last revision known (snapshot, then every ack and op). */
  revision = -1;
  private readonly session: HubSession;

  constructor(
    hub: Hub,
    readonly clientId: string,
    readonly docId: string,
  ) {
    this.session = hub.connect(this);
  }

  send(message: ServerMessage | readonly ServerMessage[]): void {
    for (const m of Array.isArray(message) ? message : [message as ServerMessage]) {
      const copy = JSON.parse(JSON.stringify(m)) as ServerMessage;
      this.messages.push(copy);
      if (copy.type === "snapshot") this.revision = copy.revision;
      if (copy.type === "ack" || copy.type === "op") {
        if (copy.revision !== this.revision + 1) {
          this.violations.push(`got revision ${copy.revision} after ${this.revision}`);
        }
        this.revision = copy.revision;
        this.revisions.push(copy.revision);
        if (copy.type === "ack" && copy.seq !== undefined) this.acked.push(copy.seq);
      }
    }
  }

  close(code: number, reason: string): void {
    this.violations.push(`connection closed by the hub: ${code} ${reason}`);
  }

  async join(): Promise<void> {
    this.session.receive(JSON.stringify({ type: "join", docId: this.docId, clientId: this.clientId }));
    await waitUntil(() => this.revision >= 0, `${this.clientId}'s snapshot`, 10_000);
  }

  /** Submit "insert `text` at 0" (valid at every revision) as `seq`, based on the last revision seen. */
  submit(seq: number, text: string): void {
    this.session.receive(
      JSON.stringify({ type: "op", docId: this.docId, clientId: this.clientId, seq, revision: this.revision, op: [{ i: text }] }),
    );
  }

  /** Errors received about `seq`. */
  errorsFor(seq: number): ServerMessage[] {
    return this.messages.filter((m) => m.type === "error" && m.seq === seq);
  }

  disconnect(): void {
    this.session.close();
  }
}
