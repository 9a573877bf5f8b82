/**
 * The editor page's entry point (bundled by build.mjs into dist/public/editor.js): CodeMirror
 * editors bound to documents of ONE `OTConnection` (one reconnecting WebSocket or SSE transport,
 * one EventSource for SSE whatever the number of documents), a sidebar of the open documents
 * (create, switch; the others stay joined and live), remote carets and the people list from
 * presence, and the status line of the document shown.
 */
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { OTConnection, type OTClient, type RestoredEvent } from "@open-ot/client";
import { collabStatus, otCollab } from "@open-ot/codemirror";
import { isValidDocId, TextType, type TextOp } from "@open-ot/core";
import { createEditorTransport } from "./editor-transport.js";
import { parsePageParams } from "./page-params.js";
import { pageStatus, type BannerButton } from "./page-status.js";
import { lineColumn, peopleRows, randomIdentity } from "./people-list.js";
import { ServerRotation } from "./server-rotation.js";

/** How often the server's health is asked. */
const STATS_INTERVAL_MS = 3_000;

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`editor page: #${id} is missing from index.html`);
  return found;
}

function showProblem(text: string): void {
  const box = element("problem") as HTMLParagraphElement;
  box.textContent = text;
  box.hidden = false;
}

/** One open document: its client, its editor (once joined) and its row in the sidebar. */
interface OpenDoc {
  readonly docId: string;
  client: OTClient<string, TextOp> | undefined;
  view: EditorView | undefined;
  readonly pane: HTMLDivElement;
  readonly row: HTMLLIElement;
  restored: RestoredEvent | undefined;
}

/** What the tests (and a curious person in the console) can read: `window.openOtDemo`. */
export interface DemoPageHook {
  /** The ids of the open documents, in sidebar order. */
  docs(): string[];
  /** The document shown. */
  active(): string;
  /** The text of a document's editor (the one shown by default). */
  text(docId?: string): string;
  /** The caret (main selection head) of a document's editor. */
  head(docId?: string): number;
  /** `line:column` of the caret, as the people list shows it. */
  where(docId?: string): string;
  /** Where a document's editor draws position `pos` (page coordinates), or null. */
  coordsAt(pos: number, docId?: string): { left: number; top: number } | null;
  /** Whether a document is live and saved (its client synced). */
  saved(docId: string): boolean;
}

function start(): void {
  const defaultDoc = document.querySelector<HTMLMetaElement>('meta[name="open-ot-default-doc"]')?.content ?? "doc-1";
  let params;
  try {
    params = parsePageParams(location.href, defaultDoc);
  } catch (error) {
    showProblem(error instanceof Error ? error.message : String(error));
    setConnection("offline", "offline");
    return;
  }
  const pageParams = params;
  const rotation = new ServerRotation(params.servers);
  const transport = createEditorTransport({ rotation, kind: params.transport });
  const connection = new OTConnection({ transport });
  const identity = randomIdentity();
  const docs = new Map<string, OpenDoc>();
  let active = params.docId;
  const editorHost = element("editor");

  const activeDoc = (): OpenDoc | undefined => docs.get(active);

  /** Open a document on the one connection (or show it, if it is open). */
  const openDoc = (docId: string, show: boolean): void => {
    if (!docs.has(docId)) {
      const pane = document.createElement("div");
      pane.className = "doc-editor";
      pane.dataset["doc"] = docId;
      pane.hidden = true;
      editorHost.append(pane);
      const row = document.createElement("li");
      row.dataset["doc"] = docId;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "doc-open";
      button.textContent = docId;
      button.addEventListener("click", () => showDoc(docId));
      const state = document.createElement("span");
      state.className = "doc-status";
      state.textContent = "opening…";
      row.append(button, state);
      element("doc-list").append(row);
      const doc: OpenDoc = { docId, client: undefined, view: undefined, pane, row, restored: undefined };
      docs.set(docId, doc);
      connection.open(docId, { type: TextType, presence: true }).then(
        (client) => attach(doc, client),
        (error: unknown) => {
          state.textContent = "refused";
          row.dataset["state"] = "refused";
          showProblem(`Could not open ${docId}: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
    }
    if (show) showDoc(docId);
  };

  const attach = (doc: OpenDoc, client: OTClient<string, TextOp>): void => {
    doc.client = client;
    doc.view = new EditorView({
      parent: doc.pane,
      extensions: [
        lineNumbers(),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.lineWrapping,
        otCollab(client, { presence: identity, onError: (error) => console.warn("editor binding:", error) }),
        EditorView.updateListener.of((update) => {
          if (doc.docId === active && (update.selectionSet || update.docChanged || update.transactions.length > 0)) render();
        }),
      ],
    });
    const renderRow = (): void => renderDocRow(doc);
    for (const event of ["status", "synced", "connection", "ack", "remoteOp", "snapshot"] as const) client.on(event, renderRow);
    for (const event of ["presence", "remoteOp", "ack", "snapshot"] as const) {
      client.on(event, () => {
        if (doc.docId === active) renderPeople();
      });
    }
    for (const event of ["status", "synced", "restored", "snapshot", "remoteOp", "ack"] as const) {
      client.on(event, () => {
        if (doc.docId === active) render();
      });
    }
    client.on("restored", (event) => {
      doc.restored = event;
    });
    client.on("resync", (event) => {
      if (event.dropped !== undefined && event.reason !== "adopt")
        showProblem(`The server refused some of your latest edits to ${doc.docId}; it was reloaded without them.`);
    });
    renderRow();
    if (doc.docId === active) showDoc(doc.docId);
  };

  const renderDocRow = (doc: OpenDoc): void => {
    const client = doc.client;
    if (client === undefined) return;
    const state = client.connectionState;
    const saved = client.synced;
    doc.row.dataset["state"] = state;
    doc.row.dataset["saved"] = String(saved);
    const text = state === "live" ? (saved ? "live · saved" : "live · saving…") : state;
    (doc.row.querySelector(".doc-status") as HTMLElement).textContent = client.hasDocument ? `${text} · r${client.revision}` : text;
  };

  const showDoc = (docId: string): void => {
    active = docId;
    for (const doc of docs.values()) {
      doc.pane.hidden = doc.docId !== docId;
      doc.row.classList.toggle("active", doc.docId === docId);
      if (doc.docId === docId) doc.row.setAttribute("aria-current", "true");
      else doc.row.removeAttribute("aria-current");
    }
    element("doc-name").textContent = docId;
    document.title = `${docId} · OpenOT demo`;
    const url = new URL(location.href);
    url.searchParams.set("doc", docId);
    url.searchParams.set("docs", [...docs.keys()].join(","));
    window.history.replaceState(null, "", url);
    activeDoc()?.view?.requestMeasure();
    render();
    renderPeople();
  };

  // The people list of the document shown: this page, then everyone else (on every instance),
  // each with their colour and the line:column of their caret in this page's text.
  const renderPeople = (): void => {
    const doc = activeDoc();
    const client = doc?.client;
    const text = doc?.view?.state.doc.toString() ?? "";
    const rows = client === undefined ? [] : peopleRows(client.presence, text);
    element("people").textContent = String(rows.length + 1);
    element("people-label").textContent = rows.length === 0 ? "editing (you)" : "editing";
    const ownHead = doc?.view?.state.selection.main.head;
    element("people-list").replaceChildren(
      ...[
        {
          author: "you",
          label: `${identity.label} (you)`,
          color: identity.color,
          where: ownHead === undefined ? undefined : lineColumn(text, ownHead),
        },
        ...rows,
      ].map((row) => {
        const item = document.createElement("li");
        item.dataset["author"] = row.author;
        const dot = document.createElement("span");
        dot.className = "dot";
        dot.style.background = row.color;
        const where = document.createElement("span");
        where.className = "where";
        where.textContent = row.where ?? "";
        item.append(dot, document.createTextNode(` ${row.label} `), where);
        return item;
      }),
    );
  };

  // Everything the status line and banner say comes from pageStatus() for the document shown,
  // re-rendered on every change and every second (the "next try in 3 s" countdown changes
  // without an event).
  let storageReachable: boolean | undefined;
  let bannerButton: BannerButton | undefined;
  const render = (): void => {
    const doc = activeDoc();
    const client = doc?.client;
    const view = doc?.view;
    const readOnly = view === undefined ? "loading" : (collabStatus(view.state)?.readOnly ?? null);
    if (readOnly === null) editorHost.removeAttribute("readonly");
    else editorHost.setAttribute("readonly", readOnly);
    if (client === undefined) {
      setConnection(transport.status.state === "open" ? "opening…" : "connecting…", "waiting");
      return;
    }
    const status = pageStatus({
      transport: transport.status,
      client: client.status,
      synced: client.synced,
      restored: doc?.restored,
      storageReachable,
      now: Date.now(),
    });
    setConnection(status.pill.text, status.pill.tone);
    const sync = element("sync");
    sync.dataset["synced"] = String(status.sync.saved);
    sync.textContent = status.sync.text;
    if (client.hasDocument) element("revision").textContent = String(client.revision);
    const banner = element("banner");
    banner.hidden = status.banner === undefined;
    bannerButton = status.banner?.button;
    if (status.banner !== undefined) {
      banner.dataset["tone"] = status.banner.tone;
      element("banner-text").textContent = status.banner.text;
      const button = element("banner-button") as HTMLButtonElement;
      button.hidden = bannerButton === undefined;
      button.textContent = bannerButton === undefined ? "" : BUTTON_LABELS[bannerButton];
    }
    element("server").textContent = `${rotation.current} · ${pageParams.transport === "ws" ? "WebSocket" : "SSE"} · ${docs.size} open`;
  };
  element("banner-button").addEventListener("click", () => {
    const doc = activeDoc();
    const client = doc?.client;
    switch (bannerButton) {
      case "retry":
        // Whichever is waiting: the connection (reconnecting, or stopped) or the server's storage.
        if (transport.status.state === "closed") connection.connect().catch(() => undefined);
        else if (transport.status.state !== "open") transport.retryNow();
        else client?.retryNow();
        break;
      case "adopt":
        client?.adoptServerCopy().catch(() => undefined);
        break;
      case "dismiss":
        if (doc !== undefined) doc.restored = undefined;
        break;
    }
    render();
  });
  transport.onStatus(() => {
    render();
    for (const doc of docs.values()) renderDocRow(doc);
  });
  setInterval(render, 1_000);

  const refreshHealth = async (): Promise<void> => {
    if (transport.status.state !== "open") return;
    try {
      // Whether the server can reach its storage: it says so on /healthz (503 while it cannot).
      const health = await fetch(`${rotation.current}/healthz`, { cache: "no-store" });
      storageReachable = health.ok;
      render();
    } catch {
      // A failed poll leaves the last answer shown; the connection status already says when
      // the server is unreachable.
    }
  };
  transport.onStatus((status) => {
    if (status.state === "open") void refreshHealth();
  });
  setInterval(() => void refreshHealth(), STATS_INTERVAL_MS);

  // The sidebar's "new document" form: open (or show) a document by id.
  const form = element("new-doc") as HTMLFormElement;
  const input = element("new-doc-name") as HTMLInputElement;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = input.value.trim();
    const docId = typed === "" ? `doc-${Math.random().toString(36).slice(2, 8)}` : typed;
    if (!isValidDocId(docId)) {
      showProblem(`"${typed}" is not a document id: use 1 to 256 characters from A-Z a-z 0-9 . _ ~ : -`);
      return;
    }
    input.value = "";
    openDoc(docId, true);
  });

  const hook: DemoPageHook = {
    docs: () => [...docs.keys()],
    active: () => active,
    text: (docId = active) => docs.get(docId)?.view?.state.doc.toString() ?? "",
    head: (docId = active) => docs.get(docId)?.view?.state.selection.main.head ?? 0,
    where: (docId = active) => {
      const state = docs.get(docId)?.view?.state;
      return state === undefined ? "" : lineColumn(state.doc.toString(), state.selection.main.head);
    },
    coordsAt: (pos, docId = active) => {
      const coords = docs.get(docId)?.view?.coordsAtPos(pos);
      return coords === null || coords === undefined ? null : { left: coords.left, top: coords.top };
    },
    saved: (docId) => {
      const client = docs.get(docId)?.client;
      return client !== undefined && client.connectionState === "live" && client.synced;
    },
  };
  (window as unknown as { openOtDemo: DemoPageHook }).openOtDemo = hook;

  // `?docs=a,b,c` opens several documents at once (the one of `?doc=` is shown).
  const more = (new URL(location.href).searchParams.get("docs") ?? "").split(",").filter((d) => d !== "" && isValidDocId(d));
  for (const docId of [params.docId, ...more]) openDoc(docId, false);
  showDoc(params.docId);
}

const BUTTON_LABELS: Readonly<Record<BannerButton, string>> = {
  retry: "Retry now",
  adopt: "Use the server's version",
  dismiss: "OK",
};

function setConnection(text: string, tone: string): void {
  const pill = element("connection");
  pill.dataset["tone"] = tone;
  element("connection-text").textContent = text;
}

start();
