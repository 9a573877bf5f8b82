import { type Logger } from "@open-ot/core";
import type { ClientNotice, PubSub } from "./backend.js";

/** A connection as the registry sees it. */
export interface RegisteredConnection {
  /** Digest of the connection's bound `clientId` (see `clientKey`). */
  readonly clientKey: string;
  /** Digest of its principal; undefined without authentication. */
  readonly principalKey: string | undefined;
  /** When it opened, and its number on this instance (see {@link ClientNotice}). */
  readonly openedAt: number;
  readonly serial: number;
  /** True while it receives `docId`. */
  receives(docId: string): boolean;
  /** Close it: a newer connection of its client joined a document it receives. */
  supersede(): void;
}

type Place = Pick<ClientNotice, "openedAt" | "instance" | "serial">;

/** True when `a` opened before `b`; ties go by instance, then serial, so every instance agrees. */
function openedBefore(a: Place, b: Place): boolean {
  if (a.openedAt !== b.openedAt) return a.openedAt < b.openedAt;
  if (a.instance !== b.instance) return a.instance < b.instance;
  return a.serial < b.serial;
}

/**
 * The connections of this instance by client, and the rule that a client keeps one connection
 * per document: when a connection of a client joins a document, any other connection of that
 * client (same `clientId` and principal) that receives the document is closed, the older of the
 * two by opening time, here and on every instance (through the pub/sub's client notices).
 *
 * A client that comes back on a new connection while the old one is still open (half-open) thus
 * loses the old one, and two tabs sharing a `clientId` by mistake cannot both edit under it.
 * Connections of another principal are never touched: a `clientId` alone does not let anyone
 * close someone else's connection.
 *
 * Lifecycle: `open -> closed`.
 */
export class ClientRegistry {
  private readonly byClient = new Map<string, Set<RegisteredConnection>>();
  private unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  private state: "open" | "closed" = "open";

  constructor(
    private readonly pubsub: PubSub,
    /** This instance's name in notices (unique per hub). */
    private readonly instance: string,
    private readonly logger: Logger,
  ) {
    const subscribe = pubsub.subscribeClientNotices?.bind(pubsub);
    if (subscribe === undefined) return;
    this.unsubscribe = subscribe((notice) => this.onNotice(notice)).catch((error: unknown) => {
      this.logger.warn?.("ClientRegistry: could not subscribe to client notices; older connections are closed on this instance only", {
        error,
      });
      return undefined;
    });
  }

  /**
   * `connection` joined `docId`: close the older of it and every other connection of its client
   * that receives `docId`, and tell the other instances. Returns false when `connection` itself
   * was the older one (and was closed).
   */
  joined(connection: RegisteredConnection, docId: string): boolean {
    if (this.state === "closed") return true;
    let connections = this.byClient.get(connection.clientKey);
    if (connections === undefined) {
      connections = new Set();
      this.byClient.set(connection.clientKey, connections);
    }
    connections.add(connection);
    for (const other of [...connections]) {
      if (other === connection || other.principalKey !== connection.principalKey || !other.receives(docId)) continue;
      if (openedBefore(this.place(other), this.place(connection))) {
        other.supersede();
      } else {
        connection.supersede();
        return false;
      }
    }
    this.publish(connection, docId);
    return true;
  }

  /** `connection` closed (or its client changed): forget it. */
  remove(connection: RegisteredConnection): void {
    const connections = this.byClient.get(connection.clientKey);
    if (connections === undefined) return;
    connections.delete(connection);
    if (connections.size === 0) this.byClient.delete(connection.clientKey);
  }

  /** Stop listening to other instances. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.byClient.clear();
    const unsubscribe = await this.unsubscribe;
    await unsubscribe?.().catch((error: unknown) => this.logger.warn?.("ClientRegistry: unsubscribing failed", { error }));
  }

  /** The number of clients with a connection here (for leak checks in tests). */
  get clientCount(): number {
    return this.byClient.size;
  }

  private onNotice(notice: ClientNotice): void {
    if (this.state === "closed" || notice.instance === this.instance) return;
    const connections = this.byClient.get(notice.client);
    if (connections === undefined) return;
    for (const connection of [...connections]) {
      if (connection.principalKey !== notice.principal || !connection.receives(notice.docId)) continue;
      const place = this.place(connection);
      if (openedBefore(place, notice)) {
        connection.supersede();
      } else if (openedBefore(notice, place)) {
        // The newer connection is here, and the older one joined later: tell its instance.
        this.publish(connection, notice.docId);
      }
    }
  }

  private place(connection: RegisteredConnection): Place {
    return { openedAt: connection.openedAt, instance: this.instance, serial: connection.serial };
  }

  private publish(connection: RegisteredConnection, docId: string): void {
    const publish = this.pubsub.publishClientNotice?.bind(this.pubsub);
    if (publish === undefined) return;
    const notice: ClientNotice = { client: connection.clientKey, docId, ...this.place(connection) };
    if (connection.principalKey !== undefined) notice.principal = connection.principalKey;
    publish(notice).catch((error: unknown) => {
      this.logger.warn?.("ClientRegistry: could not publish a client notice; an older connection elsewhere stays open", { error });
    });
  }
}
