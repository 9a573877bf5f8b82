// A tiny in-test reference server for one text document, written straight from docs/protocol.md:
// transform against history, commit, de-duplicate by (clientId, seq), answer joins with
// `joined` + replay or `snapshot` + lastSeq, trim history, and deliver acks/ops per connection.
// Messages wait in per-connection queues until the simulation moves them.
import { TextType, type TextOp } from "@open-ot/core";

/** One committed op. */
export interface Commit {
  readonly op: TextOp;
  readonly clientId: string;
  readonly seq: number;
}

/** What the server may refuse on purpose (once per op), to exercise the client's recovery. */
export type InjectedRefusal = "internal" | "unavailable" | "rate_limited" | "resync_required" | "bad_revision";

/** One connection's queues as the server sees them. */
export class ServerConnection {
  /** Server to client, not yet delivered. */
  readonly toClient: unknown[] = [];
  /** Client to server, not yet processed. */
  readonly toServer: unknown[] = [];
  clientId: string | undefined;
  joined = false;
  open = true;
}

export interface ReferenceServerOptions {
  docId: string;
  /** Ops kept for replay; older joins and ops get a snapshot / resync_required. */
  keep: number;
  /** Decides, for an op about to commit, whether to refuse it (only the first time for each (clientId, seq)). */
  refuse?: () => InjectedRefusal | undefined;
  /** Called for each join; a code refuses it (a transient one: the storage is down, say). */
  refuseJoin?: () => "unavailable" | "internal" | "rate_limited" | undefined;
}

export class ReferenceServer {
  text = "";
  /** Every committed op, in order: `log[r - 1]` was committed at revision `r`. */
  readonly log: Commit[] = [];
  readonly connections = new Set<ServerConnection>();
  /** What happened, for the simulation to check that its runs reach the interesting paths. */
  readonly stats = { duplicates: 0, refusals: 0, snapshots: 0, replays: 0 };
  readonly #lastSeq = new Map<string, number>();
  readonly #refusedOnce = new Set<string>();
  #historyStart = 0;

  constructor(readonly options: ReferenceServerOptions) {}

  get revision(): number {
    return this.log.length;
  }

  connect(): ServerConnection {
    const connection = new ServerConnection();
    this.connections.add(connection);
    return connection;
  }

  close(connection: ServerConnection): void {
    connection.open = false;
    connection.toClient.length = 0;
    connection.toServer.length = 0;
    this.connections.delete(connection);
  }

  /** Handle the oldest message the connection sent; false when there is none. */
  processOne(connection: ServerConnection): boolean {
    const message = connection.toServer.shift() as Record<string, unknown> | undefined;
    if (message === undefined) return false;
    if (typeof message.clientId === "string") {
      if (connection.clientId !== undefined && connection.clientId !== message.clientId) {
        throw new Error("reference server: a connection spoke for two clients");
      }
      connection.clientId = message.clientId;
    }
    if (message.type === "join") this.#join(connection, message);
    else if (message.type === "op") this.#op(connection, message);
    else throw new Error(`reference server: unexpected message ${JSON.stringify(message)}`);
    return true;
  }

  #join(connection: ServerConnection, message: Record<string, unknown>): void {
    const { docId } = this.options;
    const revision = message.revision as number | undefined;
    const refusal = this.options.refuseJoin?.();
    if (refusal !== undefined) {
      this.stats.refusals++;
      connection.toClient.push({ type: "error", code: refusal, message: "injected", docId });
      return;
    }
    if (revision !== undefined && revision > this.revision) {
      connection.toClient.push({ type: "error", code: "bad_revision", message: "ahead", docId });
      return;
    }
    connection.joined = true;
    if (revision === undefined || revision < this.#historyStart) {
      this.stats.snapshots++;
      const lastSeq = connection.clientId === undefined ? undefined : this.#lastSeq.get(connection.clientId);
      connection.toClient.push({
        type: "snapshot",
        docId,
        revision: this.revision,
        data: this.text,
        docType: "text",
        ...(lastSeq === undefined ? {} : { lastSeq }),
      });
      return;
    }
    this.stats.replays++;
    connection.toClient.push({ type: "joined", docId, revision });
    for (let r = revision + 1; r <= this.revision; r++) connection.toClient.push(this.#delivery(connection, r));
  }

  #op(connection: ServerConnection, message: Record<string, unknown>): void {
    const { docId } = this.options;
    const clientId = connection.clientId as string;
    const seq = message.seq as number;
    const base = message.revision as number;
    if (!connection.joined) {
      // As a real server answers: a transport's offline queue may flush an op right behind a
      // join that was refused (a transient refusal the client is waiting out).
      connection.toClient.push({ type: "error", code: "bad_message", message: "not joined", docId, seq });
      return;
    }
    if (base > this.revision) {
      connection.toClient.push({ type: "error", code: "bad_revision", message: "ahead", docId, seq });
      return;
    }
    if (seq <= (this.#lastSeq.get(clientId) ?? 0)) {
      this.stats.duplicates++; // dropped silently
      return;
    }
    if (base < this.#historyStart) {
      connection.toClient.push({ type: "error", code: "resync_required", message: "too old", docId, seq });
      return;
    }
    const key = `${clientId}:${seq}`;
    if (!this.#refusedOnce.has(key)) {
      const refusal = this.options.refuse?.();
      if (refusal !== undefined) {
        this.#refusedOnce.add(key);
        this.stats.refusals++;
        connection.toClient.push({ type: "error", code: refusal, message: "injected", docId, seq });
        return;
      }
    }
    let op = message.op as TextOp;
    for (let r = base + 1; r <= this.revision; r++) op = TextType.transform(op, this.log[r - 1]!.op, "right");
    let text: string;
    try {
      text = TextType.apply(this.text, op);
    } catch (error) {
      connection.toClient.push({ type: "error", code: "invalid_op", message: String(error), docId, seq });
      return;
    }
    this.text = text;
    this.log.push({ op, clientId, seq });
    this.#lastSeq.set(clientId, seq);
    this.#historyStart = Math.max(this.#historyStart, this.revision - this.options.keep);
    for (const other of this.connections) {
      if (other.joined && other.open) other.toClient.push(this.#delivery(other, this.revision));
    }
  }

  #delivery(connection: ServerConnection, revision: number): unknown {
    const commit = this.log[revision - 1]!;
    const { docId } = this.options;
    return commit.clientId === connection.clientId
      ? { type: "ack", docId, revision, seq: commit.seq }
      : { type: "op", docId, revision, op: commit.op, author: `author-of-${commit.clientId}` };
  }
}
