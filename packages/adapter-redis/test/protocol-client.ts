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
  /** The `lastSeq` of the latest snapshot (what the store says this client committed). */
  lastSeq = 0;
  /** How many times the hub closed the connection (each is a violation unless `rejoinOnClose`). */
  closes = 0;
  private session: HubSession;
  /**
   * Between sending a join and its answer: acks and ops then belong to the join being replaced
   * and come again after the answer (docs/protocol.md, "Joining and resuming"), so they are skipped.
   */
  private joining = false;

  /**
   * @param rejoinOnClose When the hub closes the connection (its document went back after a
   * failover, say), connect and join again as a client does, instead of counting a violation.
   */
  constructor(
    private readonly hub: Hub,
    readonly clientId: string,
    readonly docId: string,
    private readonly rejoinOnClose = false,
  ) {
    this.session = hub.connect(this);
  }

  send(message: ServerMessage | readonly ServerMessage[]): void {
    for (const m of Array.isArray(message) ? message : [message as ServerMessage]) {
      const copy = JSON.parse(JSON.stringify(m)) as ServerMessage;
      this.messages.push(copy);
      // A refused rejoin (the store is failing over): join again shortly, as a client does.
      if (copy.type === "error" && copy.seq === undefined && this.revision === -1 && this.rejoinOnClose) {
        setTimeout(() => this.sendJoin(), 100).unref();
      }
      if (copy.type === "snapshot" || copy.type === "joined" || (copy.type === "error" && copy.seq === undefined)) this.joining = false;
      if (copy.type === "snapshot") {
        this.revision = copy.revision;
        this.lastSeq = copy.lastSeq ?? 0;
      }
      if ((copy.type === "ack" || copy.type === "op") && this.joining) continue;
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
    this.closes += 1;
    if (!this.rejoinOnClose) {
      this.violations.push(`connection closed by the hub: ${code} ${reason}`);
      return;
    }
    this.revision = -1;
    try {
      this.session = this.hub.connect(this);
    } catch {
      return; // the hub is closing: nothing to rejoin
    }
    this.sendJoin();
  }

  async join(): Promise<void> {
    this.sendJoin();
    await waitUntil(() => this.revision >= 0, `${this.clientId}'s snapshot`, 10_000);
  }

  /**
   * Join again from the last revision seen, as a client does before it resends a refused op
   * (docs/protocol.md, "Errors"): the answer's replay brings the op's ack if it was committed.
   * A refused rejoin is sent again; resolves once one is answered.
   */
  async rejoin(): Promise<void> {
    const deadline = performance.now() + 15_000;
    for (;;) {
      const heard = this.messages.length;
      this.sendJoin(this.revision);
      await waitUntil(() => !this.joining, `${this.clientId}'s rejoin answer`, 15_000);
      const answer = this.messages.slice(heard).find((m) => m.type === "joined" || m.type === "snapshot");
      if (answer !== undefined || performance.now() > deadline) return;
      await new Promise<void>((resolve) => setTimeout(resolve, 100));
    }
  }

  private sendJoin(revision = -1): void {
    this.joining = true;
    this.session.receive(
      JSON.stringify({ type: "join", docId: this.docId, clientId: this.clientId, ...(revision >= 0 ? { revision } : {}) }),
    );
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
