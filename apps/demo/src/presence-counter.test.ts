import type { ServerMessage } from "@open-ot/core";
import type { ConnectOptions, HubConnection, HubSession } from "@open-ot/server";
import { describe, expect, it } from "vitest";
import { PresenceCounter, type ConnectableHub } from "./presence-counter.js";

/** A hub that hands back its connections so the test can speak for it. */
class StubHub implements ConnectableHub {
  readonly defaultDocId = "doc-1";
  readonly connections: HubConnection[] = [];
  readonly received: unknown[] = [];
  closed = 0;
  connect(connection: HubConnection, _options?: ConnectOptions): HubSession {
    this.connections.push(connection);
    return {
      id: `s${this.connections.length}`,
      receive: (frame) => this.received.push(frame),
      close: () => this.closed++,
      idle: async () => undefined,
    };
  }
}

function binding(): { sent: unknown[]; closes: [number, string][]; connection: HubConnection } {
  const sent: unknown[] = [];
  const closes: [number, string][] = [];
  return { sent, closes, connection: { send: (m) => sent.push(m), close: (code, reason) => closes.push([code, reason]) } };
}

const snapshot = (docId: string): ServerMessage => ({ type: "snapshot", docId, revision: 0, data: "", docType: "text" });

describe("PresenceCounter", () => {
  it("counts a connection in a document once the hub accepted its join, and passes everything through", () => {
    const hub = new StubHub();
    const counter = new PresenceCounter();
    const wrapped = counter.wrap(hub);
    expect(wrapped.defaultDocId).toBe("doc-1");
    const a = binding();
    const session = wrapped.connect(a.connection);
    session.receive('{"type":"join","docId":"d"}');
    expect(hub.received).toEqual(['{"type":"join","docId":"d"}']);
    expect(counter.count("d")).toBe(0);
    hub.connections[0]!.send(snapshot("d"));
    expect(counter.count("d")).toBe(1);
    expect(a.sent).toEqual([snapshot("d")]);
    // A later message or a second join of the same document does not count twice.
    hub.connections[0]!.send({ type: "joined", docId: "d", revision: 3 });
    expect(counter.count("d")).toBe(1);
    expect(session.id).toBe("s1");
  });

  it("reads joins inside batched sends and counts each document of a connection", () => {
    const hub = new StubHub();
    const counter = new PresenceCounter();
    const wrapped = counter.wrap(hub);
    wrapped.connect(binding().connection);
    wrapped.connect(binding().connection);
    hub.connections[0]!.send([snapshot("x"), { type: "joined", docId: "y", revision: 1 }]);
    hub.connections[1]!.send(snapshot("x"));
    expect([counter.count("x"), counter.count("y"), counter.count("z")]).toEqual([2, 1, 0]);
  });

  it("stops counting a connection when the binding closes its session or the hub closes the connection", () => {
    const hub = new StubHub();
    const counter = new PresenceCounter();
    const wrapped = counter.wrap(hub);
    const first = wrapped.connect(binding().connection);
    const second = binding();
    wrapped.connect(second.connection);
    hub.connections[0]!.send(snapshot("d"));
    hub.connections[1]!.send(snapshot("d"));
    expect(counter.count("d")).toBe(2);
    first.close();
    expect(hub.closed).toBe(1);
    expect(counter.count("d")).toBe(1);
    hub.connections[1]!.close(1001, "going away");
    expect(second.closes).toEqual([[1001, "going away"]]);
    expect(counter.count("d")).toBe(0);
  });
});
