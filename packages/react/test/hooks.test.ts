// @vitest-environment happy-dom
// The hooks against a real hub (in-process transport: real sessions, JSON round-tripped
// messages): rendering, edits both ways, renders only on change, strict mode's double effects,
// the leave on unmount, and two components sharing one document.
import { OTClient, OTConnection } from "@open-ot/client";
import { insertOp, JsonType, type JsonDoc, type JsonOp } from "@open-ot/json";
import { OTConnectionProvider, useDocument, useSyncStatus } from "@open-ot/react";
import { Hub, InProcessTransport, MemoryBackend, Server, type HubSession } from "@open-ot/server";
import { act, cleanup, render, waitFor } from "@testing-library/react";
import { Component, createElement, StrictMode, type ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

interface List {
  readonly items: readonly string[];
}

/** A hub whose inbound `join`s and `leave`s are counted per document, as the server received them. */
interface Rig {
  readonly hub: Hub;
  readonly server: Server;
  readonly received: { type: string; docId: string }[];
  readonly sessions: HubSession[];
  count(type: "join" | "leave", docId: string): number;
}

let rig: Rig;
const connections: OTConnection[] = [];
const clients: OTClient<JsonDoc, JsonOp>[] = [];

beforeEach(async () => {
  const backend = new MemoryBackend({ types: [JsonType] });
  const server = new Server(backend, { types: [JsonType] });
  const hub = new Hub({ server, docType: JsonType.name });
  const received: { type: string; docId: string }[] = [];
  const sessions: HubSession[] = [];
  const connect = hub.connect.bind(hub);
  // Observe what the hub receives: every frame still goes to the real session.
  hub.connect = (connection, options) => {
    const session = connect(connection, options);
    sessions.push(session);
    const receive = session.receive.bind(session);
    session.receive = (frame: unknown) => {
      const message = (typeof frame === "string" ? JSON.parse(frame) : frame) as { type: string; docId: string };
      received.push({ type: message.type, docId: message.docId });
      receive(frame);
    };
    return session;
  };
  await server.createDocument("list", JsonType.name, { items: ["milk"] });
  rig = { hub, server, received, sessions, count: (type, docId) => received.filter((m) => m.type === type && m.docId === docId).length };
});

afterEach(async () => {
  cleanup();
  await Promise.all([...connections.splice(0).map((c) => c.close()), ...clients.splice(0).map((c) => c.disconnect())]);
  await rig.hub.close();
});

function connection(): OTConnection {
  const made = new OTConnection({ transport: new InProcessTransport(rig.hub) });
  connections.push(made);
  return made;
}

/** Another user, outside React. */
async function otherUser(): Promise<OTClient<JsonDoc, JsonOp>> {
  const client = new OTClient<JsonDoc, JsonOp>({ type: JsonType, docId: "list", transport: new InProcessTransport(rig.hub) });
  clients.push(client);
  await client.connect();
  return client;
}

const renders = new Map<string, number>();

function Items({ name }: { readonly name: string }): ReactNode {
  renders.set(name, (renders.get(name) ?? 0) + 1);
  const { snapshot, submit } = useDocument("list", JsonType);
  const list = snapshot as List | undefined;
  if (list === undefined) return createElement("p", { "data-testid": name }, "loading");
  return createElement(
    "div",
    null,
    createElement("p", { "data-testid": name }, list.items.join(",")),
    createElement(
      "button",
      { "data-testid": `${name}-add`, onClick: () => submit(insertOp(["items", list.items.length], `item${list.items.length}`)) },
      "add",
    ),
  );
}

function Status(): ReactNode {
  renders.set("status", (renders.get("status") ?? 0) + 1);
  const status = useSyncStatus("list");
  return createElement(
    "p",
    { "data-testid": "status" },
    status === undefined ? "none" : `${status.status.state} ${status.synced ? "synced" : "pending"}`,
  );
}

function app(conn: OTConnection, children: ReactNode, strict = false): ReactNode {
  const tree = createElement(OTConnectionProvider, { connection: conn }, children);
  return strict ? createElement(StrictMode, null, tree) : tree;
}

beforeEach(() => {
  renders.clear();
});

describe("useDocument", () => {
  it("renders the snapshot, shows remote edits, and sends local ones", async () => {
    const view = render(app(connection(), createElement(Items, { name: "a" })));
    expect(view.getByTestId("a").textContent).toBe("loading");
    await waitFor(() => expect(view.getByTestId("a").textContent).toBe("milk"));

    const other = await otherUser();
    act(() => other.submit(insertOp(["items", 0], "eggs")));
    await waitFor(() => expect(view.getByTestId("a").textContent).toBe("eggs,milk"));

    act(() => view.getByTestId("a-add").click());
    expect(view.getByTestId("a").textContent).toBe("eggs,milk,item2");
    await waitFor(() => expect(other.snapshot).toEqual({ items: ["eggs", "milk", "item2"] }));
  });

  it("re-renders on a remote op and on submit, once each, and not on acks or status changes", async () => {
    const view = render(app(connection(), createElement(Items, { name: "a" })));
    await waitFor(() => expect(view.getByTestId("a").textContent).toBe("milk"));
    const other = await otherUser();
    const settled = renders.get("a")!;

    act(() => other.submit(insertOp(["items", 1], "eggs")));
    await waitFor(() => expect(view.getByTestId("a").textContent).toBe("milk,eggs"));
    expect(renders.get("a")).toBe(settled + 1);

    act(() => view.getByTestId("a-add").click());
    expect(renders.get("a")).toBe(settled + 2);
    // The ack changes the sync state (pending, then synced) but not the snapshot.
    await waitFor(() => expect(other.snapshot).toEqual({ items: ["milk", "eggs", "item2"] }));
    const client = connections[0]!.document("list")!;
    await waitFor(() => expect(client.synced).toBe(true));
    expect(renders.get("a")).toBe(settled + 2);
  });

  it("joins once and leaves nothing under StrictMode's double effects, and leaves on unmount", async () => {
    const view = render(app(connection(), createElement(Items, { name: "a" }), true));
    await waitFor(() => expect(view.getByTestId("a").textContent).toBe("milk"));
    expect(rig.count("join", "list")).toBe(1);
    expect(rig.count("leave", "list")).toBe(0);

    view.unmount();
    await waitFor(() => expect(rig.count("leave", "list")).toBe(1));
    await waitFor(() => expect(rig.sessions[0]!.documents).toEqual([]));
    expect(rig.count("join", "list")).toBe(1);
  });

  it("shares one document between two components, closed when the last one unmounts", async () => {
    const conn = connection();
    function Both({ second }: { readonly second: boolean }): ReactNode {
      return createElement("div", null, createElement(Items, { name: "a" }), second ? createElement(Items, { name: "b" }) : null);
    }
    const view = render(app(conn, createElement(Both, { second: true }), true));
    await waitFor(() => expect(view.getByTestId("b").textContent).toBe("milk"));
    expect(view.getByTestId("a").textContent).toBe("milk");
    expect(rig.count("join", "list")).toBe(1);

    act(() => view.getByTestId("a-add").click());
    expect(view.getByTestId("b").textContent).toBe("milk,item1");

    view.rerender(app(conn, createElement(Both, { second: false }), true));
    const client = conn.document("list")!;
    await waitFor(() => expect(client.synced).toBe(true));
    expect(rig.count("leave", "list")).toBe(0);
    expect(conn.documentIds).toEqual(["list"]);

    view.unmount();
    await waitFor(() => expect(rig.count("leave", "list")).toBe(1));
    expect(conn.documentIds).toEqual([]);
    expect(rig.count("join", "list")).toBe(1);
  });

  it("opens the document again after it was closed", async () => {
    const conn = connection();
    const first = render(app(conn, createElement(Items, { name: "a" })));
    await waitFor(() => expect(first.getByTestId("a").textContent).toBe("milk"));
    first.unmount();
    await waitFor(() => expect(rig.count("leave", "list")).toBe(1));
    const second = render(app(conn, createElement(Items, { name: "b" })));
    await waitFor(() => expect(second.getByTestId("b").textContent).toBe("milk"));
    expect(rig.count("join", "list")).toBe(2);
  });

  it("reports a document the server refuses, with the client's status", async () => {
    const conn = connection();
    function Missing(): ReactNode {
      const { error, client } = useDocument("no-such-doc", JsonType);
      return createElement("p", { "data-testid": "missing" }, error === undefined ? "opening" : `refused ${client?.status.state ?? "?"}`);
    }
    const view = render(app(conn, createElement(Missing)));
    await waitFor(() => expect(view.getByTestId("missing").textContent).toMatch(/^refused /));
  });

  it("follows a docId that changes: opens the new document and leaves the old one", async () => {
    await rig.server.createDocument("other", JsonType.name, { items: ["tea"] });
    const conn = connection();
    function Named({ docId }: { readonly docId: string }): ReactNode {
      const { snapshot } = useDocument(docId, JsonType);
      return createElement("p", { "data-testid": "named" }, (snapshot as List | undefined)?.items.join(",") ?? "loading");
    }
    const view = render(app(conn, createElement(Named, { docId: "list" }), true));
    await waitFor(() => expect(view.getByTestId("named").textContent).toBe("milk"));
    view.rerender(app(conn, createElement(Named, { docId: "other" }), true));
    await waitFor(() => expect(view.getByTestId("named").textContent).toBe("tea"));
    await waitFor(() => expect(rig.count("leave", "list")).toBe(1));
    expect(conn.documentIds).toEqual(["other"]);
    expect([rig.count("join", "list"), rig.count("join", "other")]).toEqual([1, 1]);
  });

  it("refuses a document held with another type", async () => {
    const conn = connection();
    const OtherJson = { ...JsonType };
    function Typed({ type }: { readonly type: typeof JsonType }): ReactNode {
      useDocument("list", type);
      return null;
    }
    const errors: unknown[] = [];
    class Catch extends Component<{ readonly children: ReactNode }, { failed: boolean }> {
      override state = { failed: false };
      static getDerivedStateFromError(): { failed: boolean } {
        return { failed: true };
      }
      override componentDidCatch(error: unknown): void {
        errors.push(error);
      }
      override render(): ReactNode {
        return this.state.failed ? null : this.props.children;
      }
    }
    render(app(conn, createElement(Catch, null, createElement(Typed, { type: JsonType }), createElement(Typed, { type: OtherJson }))));
    await waitFor(() => expect(errors).toHaveLength(1));
    expect(String(errors[0])).toMatch(/"list" is open with another object of the type "json1"/);
  });

  it("refuses to run outside a provider", () => {
    function Bare(): ReactNode {
      useDocument("list", JsonType);
      return null;
    }
    expect(() => render(createElement(Bare))).toThrow(/inside <OTConnectionProvider/);
  });
});

describe("useSyncStatus", () => {
  it("follows the document's status and sync state, re-rendering only when they change", async () => {
    const view = render(app(connection(), createElement("div", null, createElement(Status), createElement(Items, { name: "a" }))));
    await waitFor(() => expect(view.getByTestId("status").textContent).toBe("live synced"));
    const settled = renders.get("status")!;
    const other = await otherUser();
    act(() => other.submit(insertOp(["items", 0], "eggs")));
    await waitFor(() => expect(view.getByTestId("a").textContent).toBe("eggs,milk"));
    expect(renders.get("status")).toBe(settled);

    act(() => view.getByTestId("a-add").click());
    expect(view.getByTestId("status").textContent).toBe("live pending");
    await waitFor(() => expect(view.getByTestId("status").textContent).toBe("live synced"));
    expect(renders.get("status")).toBe(settled + 2);
  });
});
