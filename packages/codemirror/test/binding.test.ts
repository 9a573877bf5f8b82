// The binding on bare EditorStates (no DOM), with real OTClients talking to the real Hub and
// Server through the in-process transport.
import { history, redo, undo } from "@codemirror/commands";
import { EditorSelection, EditorState, type TransactionSpec } from "@codemirror/state";
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp, type TransportAdapter } from "@open-ot/core";
import { Hub, InProcessTransport, MemoryBackend, Server } from "@open-ot/server";
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  collabStatus,
  OTCodeMirrorBinding,
  otCollabState,
  remoteSelectionsField,
  setCollabReadOnly,
  setRemoteSelections,
  type LocalSelectionRange,
} from "../src/index.js";

interface Editor {
  state: EditorState;
  dispatch(spec: TransactionSpec): void;
  readonly client: OTClient<string, TextOp>;
  readonly binding: OTCodeMirrorBinding;
  readonly selections: LocalSelectionRange[][];
  /** Type `text` at `pos` (a user's edit). */
  type(pos: number, text: string, to?: number): void;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startServer(options: { historyLimit?: number; createOnJoin?: boolean } = {}) {
  const backend = new MemoryBackend(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit });
  const server = new Server(backend);
  const hub = new Hub({ server, createOnJoin: options.createOnJoin ?? true });
  cleanups.push(() => hub.close());
  return { backend, server, hub };
}

function editor(hub: Hub, docId = "doc", initial = "", transport: TransportAdapter = new InProcessTransport(hub)): Editor {
  const client = new OTClient<string, TextOp>({ type: TextType, docId, transport, restore: "manual" });
  cleanups.push(() => client.disconnect());
  const selections: LocalSelectionRange[][] = [];
  const host = {
    state: EditorState.create({ doc: initial, extensions: [otCollabState(), history()] }),
    dispatch(spec: TransactionSpec) {
      const tr = host.state.update(spec);
      host.state = tr.state;
      binding.handleTransactions([tr]);
    },
  };
  const binding = new OTCodeMirrorBinding(client, host, { onLocalSelection: (ranges) => selections.push([...ranges]) });
  cleanups.push(() => binding.destroy());
  return Object.assign(host, {
    client,
    binding,
    selections,
    type(pos: number, text: string, to = pos) {
      host.dispatch({ changes: { from: pos, to, insert: text }, selection: { anchor: pos + text.length }, userEvent: "input.type" });
    },
  });
}

/** The editor's document, which must always equal its client's view. */
function text(e: Editor): string {
  const shown = e.state.doc.toString();
  if (e.client.hasDocument) expect(shown).toBe(e.client.snapshot);
  return shown;
}

async function settled(backend: MemoryBackend, docId: string, ...editors: Editor[]): Promise<string> {
  await waitUntil(async () => {
    const record = await backend.getRecord(docId);
    return editors.every((e) => e.client.synced && e.client.revision === record.v);
  }, "every editor synced at the server's revision");
  const record = await backend.getRecord(docId);
  for (const e of editors) expect(text(e)).toBe(record.data);
  return record.data as string;
}

/** Two editors joined to one document that holds `initial`. */
async function twoEditors(initial: string, options: { historyLimit?: number } = {}) {
  const { backend, server, hub } = startServer(options);
  await server.createDocument("doc", "text", initial);
  const a = editor(hub);
  const b = editor(hub);
  await Promise.all([a.client.connect(), b.client.connect()]);
  await waitUntil(() => text(a) === initial && text(b) === initial, "both documents");
  return { backend, a, b };
}

describe("OTCodeMirrorBinding on EditorState", () => {
  it("shows the document once it arrives, read-only before", async () => {
    const { server, hub } = startServer();
    await server.createDocument("doc", "text", "hello");
    const a = editor(hub, "doc", "stale local text");
    await Promise.resolve();
    expect(collabStatus(a.state)).toMatchObject({ hasDocument: false, readOnly: "loading" });
    a.type(0, "lost");
    expect(a.state.doc.toString()).toBe("stale local text");

    await a.client.connect();
    await waitUntil(() => a.state.doc.toString() === "hello", "the snapshot in the editor");
    expect(collabStatus(a.state)).toMatchObject({ hasDocument: true, connection: "live", readOnly: null });
  });

  it("local edits become ops; concurrent edits of two editors converge and keep the local selection", async () => {
    const { backend, a, b } = await twoEditors("0123456789");

    a.dispatch({ selection: EditorSelection.range(5, 7) });
    b.type(0, "XY");
    a.type(a.state.doc.length, "!");
    a.dispatch({ selection: EditorSelection.range(a.state.doc.length - 6, a.state.doc.length - 4) });
    b.type(4, "", 6); // B's document is "XY0123456789": removes "23"
    const final = await settled(backend, "doc", a, b);
    expect(final).toBe("XY01456789!");
    // A's selection (on "56") followed its characters through B's inserts and deletes.
    expect(a.state.sliceDoc(a.state.selection.main.from, a.state.selection.main.to)).toBe("56");
    expect(a.selections.at(-1)).toEqual([{ anchor: a.state.selection.main.anchor, head: a.state.selection.main.head }]);
  });

  it("a replacement keeps CodeMirror's order: the insert at the start of the replaced range", async () => {
    const { backend, server, hub } = startServer();
    await server.createDocument("doc", "text", "abcdef");
    const a = editor(hub);
    await a.client.connect();
    await waitUntil(() => text(a) === "abcdef", "the document");
    const submitted: TextOp[] = [];
    const original = a.client.submit.bind(a.client);
    a.client.submit = (op: TextOp) => {
      submitted.push(op);
      original(op);
    };
    a.type(2, "XY", 5);
    expect(submitted).toEqual([[{ r: 2 }, { i: "XY" }, { d: 3 }]]);
    expect(await settled(backend, "doc", a)).toBe("abXYf");
  });

  it("undo undoes only the local edits, mapped through remote ones; redo brings them back", async () => {
    const { backend, a, b } = await twoEditors("base");

    a.type(4, " mine");
    await settled(backend, "doc", a, b);
    b.type(0, "theirs ");
    await settled(backend, "doc", a, b);
    expect(text(a)).toBe("theirs base mine");

    expect(undo(a)).toBe(true);
    expect(await settled(backend, "doc", a, b)).toBe("theirs base");
    expect(undo(a)).toBe(false); // B's edit is not in A's history

    expect(redo(a)).toBe(true);
    expect(await settled(backend, "doc", a, b)).toBe("theirs base mine");
  });

  it("a resync from a snapshot keeps the local unacknowledged edits", async () => {
    // A history of 2 ops: a client 5 revisions behind gets a snapshot when it rejoins.
    const { backend, a, b } = await twoEditors("shared", { historyLimit: 2 });

    await a.client.disconnect();
    a.type(6, " (offline edit)");
    for (let k = 0; k < 5; k++) {
      b.type(0, `${k}`);
      await settled(backend, "doc", b);
    }
    const resyncs: unknown[] = [];
    a.client.on("resync", (event) => resyncs.push(event));
    await a.client.connect();
    const final = await settled(backend, "doc", a, b);
    expect(resyncs).toHaveLength(1);
    expect(final).toBe("43210shared (offline edit)");
  });

  it("is read-only while the app says so, and while the join is refused", async () => {
    const { server, hub } = startServer({ createOnJoin: false });
    await server.createDocument("doc", "text", "text");
    const a = editor(hub);
    await a.client.connect();
    await waitUntil(() => text(a) === "text", "the document");

    a.dispatch({ effects: setCollabReadOnly.of("saving a version") });
    expect(collabStatus(a.state)?.readOnly).toBe("saving a version");
    expect(a.state.readOnly).toBe(true);
    a.type(0, "no");
    expect(text(a)).toBe("text");
    a.dispatch({ effects: setCollabReadOnly.of(null) });
    a.type(0, "yes ");
    expect(text(a)).toBe("yes text");

    const missing = editor(hub, "missing", "local");
    await expect(missing.client.connect()).rejects.toMatchObject({ code: "not_found" });
    await waitUntil(() => collabStatus(missing.state)?.connection === "refused", "the refused state in the editor");
    // Never had a document: still loading; a client that had one would say "refused".
    expect(collabStatus(missing.state)?.readOnly).toBe("loading");
  });

  it("turns read-only when its document is lost, or its rejoin refused, after showing it", async () => {
    for (const [after, createOnJoin] of [
      ["lost", true],
      ["refused", false],
    ] as const) {
      const { server, hub } = startServer();
      await server.createDocument("doc", "text", "text");
      // The editor's connection goes to `hub` until the test points it at another server.
      let current = new InProcessTransport(hub);
      const switchable: TransportAdapter = {
        connect: (onReceive) => current.connect(onReceive),
        send: (message) => current.send(message),
        disconnect: () => current.disconnect(),
      };
      const a = editor(hub, "doc", "", switchable);
      await a.client.connect();
      await waitUntil(() => text(a) === "text", "the document");
      a.type(4, "!");
      await waitUntil(() => a.client.synced, "the edit acknowledged");
      expect(collabStatus(a.state)?.readOnly).toBeNull();

      await a.client.disconnect();
      // A server without the document: one that creates on join takes it for lost (the editor
      // holds a revision of it), one that does not refuses the join with not_found.
      const other = startServer({ createOnJoin });
      current = new InProcessTransport(other.hub);
      await expect(a.client.connect()).rejects.toMatchObject({ code: after === "lost" ? "document_lost" : "not_found" });
      await waitUntil(() => collabStatus(a.state)?.connection === after, `the ${after} state in the editor`);
      expect(collabStatus(a.state)?.readOnly).toBe(after);
      expect(a.state.readOnly).toBe(true);
      a.type(0, "no ");
      expect(a.state.doc.toString()).toBe("text!");
    }
  });

  it("remote selections are mapped through every change until presence replaces them", async () => {
    const { backend, a, b } = await twoEditors("hello world");
    a.dispatch({ effects: setRemoteSelections.of([{ id: "b", name: "Bob", color: "#c00", anchor: 6, head: 11 }]) });
    b.type(0, ">> ");
    a.type(a.state.doc.length, "!");
    await settled(backend, "doc", a, b);
    const [bob] = a.state.field(remoteSelectionsField);
    expect(a.state.sliceDoc(bob!.anchor, bob!.head)).toBe("world");
    a.dispatch({ effects: setRemoteSelections.of([]) });
    expect(a.state.field(remoteSelectionsField)).toEqual([]);
  });
});
