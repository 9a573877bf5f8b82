// A stand-in for @open-ot/server's Hub, for tests of the binding's own plumbing: it answers
// `ping` with `pong`, floods on request, and records what it was given.
import type { ConnectOptions, HubConnection, HubSession } from "@open-ot/server";
import type { HubLike } from "../src/hub-like.js";

export interface StubConnection {
  readonly connection: HubConnection;
  readonly options: ConnectOptions | undefined;
  readonly frames: unknown[];
  closed: boolean;
}

export interface StubHub extends HubLike {
  readonly connections: StubConnection[];
  /** Throw from connect() instead of accepting. */
  failConnect: boolean;
}

export function createStubHub(defaultDocId?: string): StubHub {
  const hub: StubHub = {
    connections: [],
    failConnect: false,
    ...(defaultDocId === undefined ? {} : { defaultDocId }),
    connect(connection: HubConnection, options?: ConnectOptions): HubSession {
      if (hub.failConnect) throw new Error("stub hub refuses");
      const record: StubConnection = { connection, options, frames: [], closed: false };
      hub.connections.push(record);
      return {
        id: `stub-${hub.connections.length}`,
        receive(frame: unknown) {
          record.frames.push(frame);
          for (const element of Array.isArray(frame) ? frame : [frame]) handle(element);
        },
        close() {
          record.closed = true;
        },
        idle: () => Promise.resolve(),
      };
      function handle(frame: unknown): void {
        const message = typeof frame === "string" ? undefined : (frame as { type?: unknown; t?: unknown; count?: number; size?: number });
        if (message?.type === "ping")
          connection.send(message.t === undefined ? { type: "pong" } : { type: "pong", t: message.t as string });
        // Test hook: send `count` pongs of `size` characters each, as fast as possible.
        if (message?.type === "flood") {
          const t = "x".repeat(message.size ?? 1024);
          for (let i = 0; i < (message.count ?? 1); i++) connection.send({ type: "pong", t });
        }
      }
    },
  };
  return hub;
}
