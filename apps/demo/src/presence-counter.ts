import type { ServerMessage } from "@open-ot/core";
import type { ProtocolError } from "@open-ot/core";
import type { ClientSubmit, ConnectOptions, HubConnection, HubSession, ServerMetrics } from "@open-ot/server";

/** The part of the hub the bindings use (`Hub` from @open-ot/server fits). */
export interface ConnectableHub {
  connect(connection: HubConnection, options?: ConnectOptions): HubSession;
  readonly defaultDocId?: string;
  /** Passed through: the bindings report there. */
  readonly metrics?: ServerMetrics | undefined;
  /** Passed through: the SSE binding commits ops of sessions held by other instances with it. */
  submit?(request: ClientSubmit): Promise<ProtocolError | undefined>;
}

/**
 * Counts, per document, the connections on this instance that are in it, for the page's "N
 * editing" line. The protocol has no presence message, and the hub does not expose who joined
 * what, so this watches the traffic instead: a connection counts for a document once the hub
 * sends it that document's `snapshot` or `joined` (a join the hub accepted), and stops counting
 * when the connection ends. A `leave` is not watched (that would mean parsing every inbound
 * frame a second time); the demo page never sends one, so for it the count is exact.
 *
 * Use {@link PresenceCounter.wrap} to get a hub to hand to the bindings.
 */
export class PresenceCounter {
  readonly #byDoc = new Map<string, Set<object>>();

  /** Presence entries on this instance: connections counted in a document, summed over documents. */
  get total(): number {
    let total = 0;
    for (const set of this.#byDoc.values()) total += set.size;
    return total;
  }

  /** Connections on this instance in `docId`. */
  count(docId: string): number {
    return this.#byDoc.get(docId)?.size ?? 0;
  }

  /** A hub that behaves as `hub` and keeps this counter up to date. */
  wrap(hub: ConnectableHub): ConnectableHub {
    return {
      defaultDocId: hub.defaultDocId,
      metrics: hub.metrics,
      ...(hub.submit === undefined ? {} : { submit: hub.submit.bind(hub) }),
      connect: (connection, options) => {
        const key = {};
        const docs = new Set<string>();
        const forget = (): void => {
          for (const docId of docs) this.#remove(docId, key);
          docs.clear();
        };
        const note = (message: ServerMessage): void => {
          if ((message.type === "snapshot" || message.type === "joined") && !docs.has(message.docId)) {
            docs.add(message.docId);
            this.#add(message.docId, key);
          }
        };
        const session = hub.connect(
          {
            send(message) {
              if (Array.isArray(message)) for (const m of message as readonly ServerMessage[]) note(m);
              else note(message as ServerMessage);
              connection.send(message);
            },
            close(code, reason) {
              forget();
              connection.close(code, reason);
            },
          },
          options,
        );
        return {
          id: session.id,
          get boundClientId() {
            return session.boundClientId;
          },
          get documents() {
            return session.documents;
          },
          receive: (frame) => session.receive(frame),
          close: () => {
            forget();
            session.close();
          },
          idle: () => session.idle(),
        };
      },
    };
  }

  #add(docId: string, key: object): void {
    let set = this.#byDoc.get(docId);
    if (set === undefined) this.#byDoc.set(docId, (set = new Set()));
    set.add(key);
  }

  #remove(docId: string, key: object): void {
    const set = this.#byDoc.get(docId);
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) this.#byDoc.delete(docId);
  }
}
