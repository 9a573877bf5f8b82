import type { ServerMessage } from "@open-ot/core";
import type { ConnectOptions, HubConnection, HubSession } from "@open-ot/server";

/** One connection a binding handed to the hub, as a test sees it. */
export interface TrackedConnection {
  /** The binding's side of the connection (send to it, close it). */
  readonly connection: HubConnection;
  /** False once either side closed it. */
  open: boolean;
  /** The close the hub asked for (the superseding of a connection, say), if any. */
  closedByHub?: { code: number; reason: string };
}

/** What a binding needs of a hub: its `connect`. */
export interface HubConnector {
  connect(connection: HubConnection, options?: ConnectOptions): HubSession;
}

/** Options of {@link trackConnections}. */
export interface ConnectionTrackerOptions {
  /**
   * What reaches the wire of each message the hub sends: the message as is, a changed one, or
   * `undefined` to drop it. @default every message as is
   */
  readonly outgoing?: (message: ServerMessage | readonly ServerMessage[]) => ServerMessage | readonly ServerMessage[] | undefined;
  /** Called for every new connection once the hub has it. */
  readonly onConnect?: (entry: TrackedConnection) => void;
}

/**
 * Puts a recorder between the bindings and a hub: every connection they open is listed with
 * whether it is open and the close the hub asked for, so that tests can check who closed what and
 * close connections themselves. Pass the returned `hub` to the bindings.
 */
export function trackConnections(
  hub: HubConnector,
  options: ConnectionTrackerOptions = {},
): { readonly hub: HubConnector; readonly connections: TrackedConnection[] } {
  const connections: TrackedConnection[] = [];
  const outgoing = options.outgoing;
  return {
    connections,
    hub: {
      connect(connection, connectOptions) {
        const entry: TrackedConnection = { connection, open: true };
        connections.push(entry);
        const session = hub.connect(
          {
            send: (message) => {
              const passed = outgoing === undefined ? message : outgoing(message);
              if (passed !== undefined) connection.send(passed);
            },
            close: (code, reason) => {
              entry.open = false;
              entry.closedByHub = { code, reason };
              connection.close(code, reason);
            },
          },
          connectOptions,
        );
        options.onConnect?.(entry);
        return {
          get id() {
            return session.id;
          },
          get boundClientId() {
            return session.boundClientId;
          },
          get documents() {
            return session.documents;
          },
          receive: (frame: unknown) => session.receive(frame),
          close: () => {
            entry.open = false;
            session.close();
          },
          idle: () => session.idle(),
        };
      },
    },
  };
}
