// A stand-in hub for testing the binding's plumbing without @open-ot/server's Hub: it answers
// `ping` with `pong` (same `t`), records everything else, and lets a test close every connection.
import type { ConnectOptions, HubConnection, HubSession } from "@open-ot/server";

export interface StubSession extends HubSession {
  readonly connection: HubConnection;
  readonly options: ConnectOptions | undefined;
  readonly received: unknown[];
  closed: boolean;
}

export class StubHub {
  readonly sessions: StubSession[] = [];
  private nextId = 1;

  connect(connection: HubConnection, options?: ConnectOptions): HubSession {
    const received: unknown[] = [];
    const session: StubSession = {
      id: `stub-${this.nextId++}`,
      connection,
      options,
      received,
      closed: false,
      receive(frame: unknown) {
        if (session.closed) return;
        const value: unknown = typeof frame === "string" ? JSON.parse(frame) : frame;
        for (const message of Array.isArray(value) ? value : [value]) {
          received.push(message);
          const m = message as { type?: unknown; t?: number | string };
          if (m.type === "ping") connection.send({ type: "pong", ...(m.t !== undefined ? { t: m.t } : {}) });
        }
      },
      close() {
        session.closed = true;
      },
      idle: () => Promise.resolve(),
    };
    this.sessions.push(session);
    return session;
  }

  /** Close every open connection from the server side. */
  closeAll(code: number, reason: string): void {
    for (const s of this.sessions) if (!s.closed) s.connection.close(code, reason);
  }
}
