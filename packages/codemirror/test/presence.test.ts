// The `presence` option of the binding, on bare EditorStates, with real OTClients (presence on)
// talking to the real Hub and Server through the in-process transport.
import { EditorSelection, EditorState, type TransactionSpec } from "@codemirror/state";
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { Hub, InProcessTransport, MemoryBackend, Server } from "@open-ot/server";
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { OTCodeMirrorBinding, otCollabState, remoteSelectionsField, type CollabPresenceOptions } from "../src/index.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Editor {
  state: EditorState;
  dispatch(spec: TransactionSpec): void;
  readonly client: OTClient<string, TextOp>;
  readonly binding: OTCodeMirrorBinding;
  readonly errors: unknown[];
}

function editor(hub: Hub, presence: CollabPresenceOptions, clientPresence = true): Editor {
  const client = new OTClient<string, TextOp>({
    type: TextType,
    docId: "doc",
    transport: new InProcessTransport(hub),
    presence: clientPresence ? { intervalMs: 10 } : false,
  });
  cleanups.push(() => client.disconnect());
  const errors: unknown[] = [];
  const host = {
    state: EditorState.create({ extensions: [otCollabState()] }),
    dispatch(spec: TransactionSpec) {
      const tr = host.state.update(spec);
      host.state = tr.state;
      binding.handleTransactions([tr]);
    },
  };
  const binding = new OTCodeMirrorBinding(client, host, { presence, onError: (error) => errors.push(error) });
  cleanups.push(() => binding.destroy());
  return Object.assign(host, { client, binding, errors });
}

async function twoEditors(initial: string) {
  const backend = new MemoryBackend();
  const server = new Server(backend);
  const hub = new Hub({ server, createOnJoin: true });
  cleanups.push(() => hub.close());
  await server.createDocument("doc", "text", initial);
  const a = editor(hub, { label: "Ada", color: "#d33682" });
  const b = editor(hub, { label: "Brian", color: "#268bd2" });
  await Promise.all([a.client.connect(), b.client.connect()]);
  await waitUntil(() => a.state.doc.toString() === initial && b.state.doc.toString() === initial, "both documents");
  return { hub, a, b };
}

const drawn = (e: Editor) => e.state.field(remoteSelectionsField);

describe("otCollab presence option", () => {
  it("publishes the local selection and draws the other's caret and selection with name and colour", async () => {
    const { a, b } = await twoEditors("hello world");
    a.dispatch({ selection: EditorSelection.single(6, 11) });
    await waitUntil(() => drawn(b).length === 1 && drawn(b)[0]?.head === 11, "A's selection drawn in B");
    expect(drawn(b)).toEqual([{ id: expect.any(String) as string, name: "Ada", color: "#d33682", anchor: 6, head: 11 }]);
    expect([...b.client.presence.values()][0]).toMatchObject({ label: "Ada", color: "#d33682", ranges: [{ anchor: 6, head: 11 }] });

    b.dispatch({ selection: EditorSelection.cursor(0) });
    await waitUntil(() => drawn(a).some((s) => s.name === "Brian" && s.head === 0 && s.anchor === 0), "B's caret drawn in A");
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it("keeps a remote caret on its character while the other types before it", async () => {
    const { a, b } = await twoEditors("abc def");
    a.dispatch({ selection: EditorSelection.cursor(4) }); // before "d"
    await waitUntil(() => drawn(b)[0]?.head === 4, "A's caret in B");
    b.dispatch({ changes: { from: 0, insert: "XYZ " }, selection: { anchor: 4 } });
    expect(drawn(b)[0]?.head).toBe(8); // mapped at once by the editor
    await waitUntil(() => a.state.doc.toString() === "XYZ abc def" && b.client.synced, "B's edit everywhere");
    // ...and after the client's own transform of A's presence through B's op (A's caret moved with the text).
    await waitUntil(() => drawn(b)[0]?.head === 8 && b.state.doc.sliceString(8, 9) === "d", "caret still before d");
  });

  it("draws a caret where its editor has it after text is inserted at the caret itself", async () => {
    const { a, b } = await twoEditors("abcdef");
    a.dispatch({ selection: EditorSelection.cursor(3) });
    await waitUntil(() => drawn(b)[0]?.head === 3, "A's caret in B");
    b.dispatch({ changes: { from: 3, insert: "XY" }, selection: { anchor: 5 } });
    await waitUntil(() => a.state.doc.toString() === "abcXYdef" && b.client.synced, "B's insert everywhere");
    const head = a.state.selection.main.head;
    await waitUntil(() => drawn(b)[0]?.head === head, `A's caret drawn at ${head} in B, as A's editor has it`);
    await waitUntil(() => [...b.client.presence.values()][0]?.ranges?.[0]?.head === head, "B's client agrees");
  });

  it("does not publish an unchanged selection again, and clears presence on destroy", async () => {
    const { a, b } = await twoEditors("text");
    const sent: unknown[] = [];
    const original = a.client.setPresence.bind(a.client);
    a.client.setPresence = (state) => {
      sent.push(state);
      original(state);
    };
    a.dispatch({ selection: EditorSelection.cursor(2) });
    a.dispatch({ selection: EditorSelection.cursor(2) });
    a.dispatch({ effects: [] });
    expect(sent).toEqual([{ label: "Ada", color: "#d33682", ranges: [{ anchor: 2, head: 2 }] }]);
    await waitUntil(() => drawn(b)[0]?.head === 2, "A's caret in B");
    a.binding.destroy();
    await waitUntil(() => drawn(b).length === 0, "A's caret gone from B");
  });

  it("reports once through onError when the client has no presence option", async () => {
    const backend = new MemoryBackend();
    const server = new Server(backend);
    const hub = new Hub({ server, createOnJoin: true });
    cleanups.push(() => hub.close());
    const e = editor(hub, { label: "Ada" }, false);
    await e.client.connect();
    await waitUntil(() => e.client.hasDocument && e.errors.length === 1, "the error reported");
    e.dispatch({ selection: EditorSelection.cursor(0) });
    expect(e.errors).toHaveLength(1);
    expect(String(e.errors[0])).toContain("presence");
  });
});
