// @vitest-environment happy-dom
// usePresence against a real hub (in-process transport: real sessions and presence service,
// JSON round-tripped messages): peers shown and re-rendered only on change, carets following
// edits, the local presence set and cleared on unmount, strict mode's double effects clearing
// nothing.
import { OTClient, OTConnection, type PeerPresenceView } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { OTConnectionProvider, useDocument, usePresence } from "@open-ot/react";
import { Hub, InProcessTransport, MemoryBackend, Server } from "@open-ot/server";
import { act, cleanup, render, waitFor } from "@testing-library/react";
import { createElement, StrictMode, useEffect, type ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

/** What the hub received, message by message. */
let received: { type: string; docId: string; state?: unknown }[];
let hub: Hub;
const connections: OTConnection[] = [];
const clients: OTClient<string, TextOp>[] = [];

beforeEach(async () => {
  const server = new Server(new MemoryBackend());
  hub = new Hub({ server });
  received = [];
  const connect = hub.connect.bind(hub);
  // Observe what the hub receives: every frame still goes to the real session.
  hub.connect = (connection, options) => {
    const session = connect(connection, options);
    const receive = session.receive.bind(session);
    session.receive = (frame: unknown) => {
      received.push((typeof frame === "string" ? JSON.parse(frame) : frame) as (typeof received)[number]);
      receive(frame);
    };
    return session;
  };
  await server.createDocument("doc", "text", "hello world");
});

afterEach(async () => {
  cleanup();
  await Promise.all([...connections.splice(0).map((c) => c.close()), ...clients.splice(0).map((c) => c.disconnect())]);
  await hub.close();
});

function connection(): OTConnection {
  const made = new OTConnection({ transport: new InProcessTransport(hub) });
  connections.push(made);
  return made;
}

/** Another user, outside React, taking part in presence. */
async function otherUser(): Promise<OTClient<string, TextOp>> {
  const client = new OTClient<string, TextOp>({ type: TextType, docId: "doc", transport: new InProcessTransport(hub), presence: true });
  clients.push(client);
  await client.connect();
  return client;
}

/** `label@anchor-head` of every peer, sorted, for assertions. */
function describePeers(peers: ReadonlyMap<string, PeerPresenceView>): string {
  return [...peers.values()]
    .map((p) => `${p.label ?? "?"}${p.ranges === undefined ? "" : `@${p.ranges.map((r) => `${r.anchor}-${r.head}`).join(",")}`}`)
    .sort()
    .join(" ");
}

const renders = new Map<string, number>();
beforeEach(() => renders.clear());

/** Shows the peers; sets its own presence (label and a caret) in an effect when `caret` is given. */
function People({ name, caret }: { readonly name: string; readonly caret?: number }): ReactNode {
  renders.set(name, (renders.get(name) ?? 0) + 1);
  const { peers, setPresence } = usePresence("doc", TextType);
  useEffect(() => {
    if (caret !== undefined) setPresence({ label: name, color: "#c33", ranges: [{ anchor: caret, head: caret }] });
  }, [caret, name, setPresence]);
  return createElement("p", { "data-testid": name }, describePeers(peers));
}

/** Holds the document open (and shows it), so that unmounting People alone does not leave. */
function Text(): ReactNode {
  const { snapshot } = useDocument("doc", TextType);
  return createElement("p", { "data-testid": "text" }, snapshot ?? "loading");
}

function app(conn: OTConnection, children: ReactNode, strict = false): ReactNode {
  const tree = createElement(OTConnectionProvider, { connection: conn }, children);
  return strict ? createElement(StrictMode, null, tree) : tree;
}

/** Presence messages the hub received for "doc" with `state: null` (clears). */
const clears = (): number => received.filter((m) => m.type === "presence" && m.docId === "doc" && m.state === null).length;

describe("usePresence", () => {
  it("shows the other users, not oneself, and sends its own presence", async () => {
    const other = await otherUser();
    other.setPresence({ label: "bob", ranges: [{ anchor: 1, head: 3 }] });
    const view = render(app(connection(), createElement(People, { name: "alice", caret: 5 })));
    await waitFor(() => expect(view.getByTestId("alice").textContent).toBe("bob@1-3"));
    await waitFor(() => expect(describePeers(other.presence)).toBe("alice@5-5"));
    expect([...other.presence.values()][0]?.color).toBe("#c33");
  });

  it("re-renders when a peer moves or a caret is pushed by an edit, not for an edit after every caret", async () => {
    const other = await otherUser();
    const view = render(app(connection(), createElement("div", null, createElement(People, { name: "alice" }), createElement(Text))));
    await waitFor(() => expect(view.getByTestId("text").textContent).toBe("hello world"));
    act(() => other.setPresence({ label: "bob", ranges: [{ anchor: 5, head: 5 }] }));
    await waitFor(() => expect(view.getByTestId("alice").textContent).toBe("bob@5-5"));
    const settled = renders.get("alice")!;

    // An insert after bob's caret: the document changes, the people list does not.
    act(() => other.submit([{ r: 11 }, { i: "!" }]));
    await waitFor(() => expect(view.getByTestId("text").textContent).toBe("hello world!"));
    await waitFor(() => expect(other.synced).toBe(true));
    expect(renders.get("alice")).toBe(settled);

    // An insert before it pushes the caret right.
    act(() => other.submit([{ i: ">> " }]));
    await waitFor(() => expect(view.getByTestId("alice").textContent).toBe("bob@8-8"));
    expect(renders.get("alice")).toBe(settled + 1);

    act(() => other.setPresence({ label: "bob", ranges: [{ anchor: 0, head: 2 }] }));
    await waitFor(() => expect(view.getByTestId("alice").textContent).toBe("bob@0-2"));
    expect(renders.get("alice")).toBe(settled + 2);

    act(() => other.clearPresence());
    await waitFor(() => expect(view.getByTestId("alice").textContent).toBe(""));
  });

  it("keeps its presence through StrictMode's double effects and clears it on unmount", async () => {
    const other = await otherUser();
    const conn = connection();
    function Page({ people }: { readonly people: boolean }): ReactNode {
      return createElement("div", null, createElement(Text), people ? createElement(People, { name: "alice", caret: 2 }) : null);
    }
    const view = render(app(conn, createElement(Page, { people: true }), true));
    await waitFor(() => expect(describePeers(other.presence)).toBe("alice@2-2"));
    expect(clears()).toBe(0);
    // One join for the other user, one for the page.
    expect(received.filter((m) => m.type === "join" && m.docId === "doc")).toHaveLength(2);

    // The people list goes; the document stays open for the text.
    view.rerender(app(conn, createElement(Page, { people: false }), true));
    await waitFor(() => expect(describePeers(other.presence)).toBe(""));
    expect(clears()).toBe(1);
    expect(received.filter((m) => m.type === "leave")).toHaveLength(0);
    expect(conn.documentIds).toEqual(["doc"]);
  });

  it("leaves with the last component, and the others see the entry gone", async () => {
    const other = await otherUser();
    const view = render(app(connection(), createElement(People, { name: "alice", caret: 0 }), true));
    await waitFor(() => expect(describePeers(other.presence)).toBe("alice@0-0"));
    view.unmount();
    await waitFor(() => expect(received.filter((m) => m.type === "leave" && m.docId === "doc")).toHaveLength(1));
    await waitFor(() => expect(describePeers(other.presence)).toBe(""));
  });

  it("applies a setPresence made before the document was open", async () => {
    const other = await otherUser();
    // A child's effect runs before its parent's subscription: the parent's hook is not open yet.
    function Child({ set }: { readonly set: (state: { label: string }) => void }): ReactNode {
      useEffect(() => set({ label: "early" }), [set]);
      return null;
    }
    function Parent(): ReactNode {
      const { setPresence } = usePresence("doc", TextType);
      return createElement(Child, { set: setPresence });
    }
    render(app(connection(), createElement(Parent)));
    await waitFor(() => expect(describePeers(other.presence)).toBe("early"));
  });

  it("does not let an unmounted component's presence clear another component's", async () => {
    const other = await otherUser();
    const conn = connection();
    function Two({ first }: { readonly first: boolean }): ReactNode {
      return createElement(
        "div",
        null,
        first ? createElement(People, { name: "first", caret: 1 }) : null,
        createElement(People, { name: "second", caret: 4 }),
      );
    }
    const view = render(app(conn, createElement(Two, { first: true })));
    // The second component set its presence last: it owns the entry.
    await waitFor(() => expect(describePeers(other.presence)).toBe("second@4-4"));
    view.rerender(app(conn, createElement(Two, { first: false })));
    await waitFor(() => expect(received.filter((m) => m.type === "presence").length).toBeGreaterThan(0));
    // Nothing is cleared: the second still holds its presence.
    await act(() => Promise.resolve());
    expect(clears()).toBe(0);
    expect(describePeers(other.presence)).toBe("second@4-4");
  });
});
