/**
 * The editor page's entry point (bundled by build.mjs into dist/public/editor.js): a textarea
 * bound to an OTClient over a reconnecting WebSocket or SSE transport, plus the status line.
 */
import { OTClient, type RestoredEvent } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { createEditorTransport } from "./editor-transport.js";
import { parsePageParams } from "./page-params.js";
import { pageStatus, type BannerButton } from "./page-status.js";
import { peopleRows, randomIdentity } from "./people-list.js";
import { ServerRotation } from "./server-rotation.js";
import { TextareaBinding } from "./textarea-binding.js";

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

function start(): void {
  const editor = element("editor") as HTMLTextAreaElement;
  const defaultDoc = document.querySelector<HTMLMetaElement>('meta[name="open-ot-default-doc"]')?.content ?? "doc-1";
  let params;
  try {
    params = parsePageParams(location.href, defaultDoc);
  } catch (error) {
    showProblem(error instanceof Error ? error.message : String(error));
    setConnection("offline", "offline");
    return;
  }

  element("doc-name").textContent = params.docId;
  document.title = `${params.docId} · OpenOT demo`;
  const rotation = new ServerRotation(params.servers);
  const transport = createEditorTransport({ rotation, kind: params.transport });
  const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: params.docId, presence: true });
  new TextareaBinding(editor, client);

  // Presence: this page's caret goes out as it moves; the people list shows everyone else's
  // (across all instances), each at its line and column in this page's text.
  const identity = randomIdentity();
  const sendCaret = (): void => {
    if (!client.hasDocument) return;
    const backward = editor.selectionDirection === "backward";
    const [anchor, head] = backward ? [editor.selectionEnd, editor.selectionStart] : [editor.selectionStart, editor.selectionEnd];
    client.setPresence({ ...identity, ranges: [{ anchor, head }] });
  };
  for (const event of ["select", "keyup", "mouseup", "input", "focus"] as const) editor.addEventListener(event, sendCaret);
  client.on("snapshot", sendCaret);
  const renderPeople = (): void => {
    const rows = peopleRows(client.presence, editor.value);
    element("people").textContent = String(rows.length + 1);
    element("people-label").textContent = rows.length === 0 ? "editing (you)" : "editing";
    const list = element("people-list");
    list.replaceChildren(
      ...[{ author: "you", label: `${identity.label} (you)`, color: identity.color, where: undefined }, ...rows].map((row) => {
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
  for (const event of ["presence", "remoteOp", "ack", "snapshot"] as const) client.on(event, renderPeople);

  const showRevision = (): void => {
    if (client.hasDocument) element("revision").textContent = String(client.revision);
  };
  client.on("snapshot", showRevision);
  client.on("remoteOp", showRevision);
  client.on("ack", showRevision);
  client.on("resync", (event) => {
    if (event.dropped !== undefined && event.reason !== "adopt")
      showProblem("The server refused some of your latest edits; the document was reloaded without them.");
  });

  // Everything the status line and banner say comes from pageStatus(), re-rendered on every
  // change and every second (the "next try in 3 s" countdown changes without an event).
  let restored: RestoredEvent | undefined;
  let storageReachable: boolean | undefined;
  let bannerButton: BannerButton | undefined;
  const render = (): void => {
    const status = pageStatus({
      transport: transport.status,
      client: client.status,
      synced: client.synced,
      restored,
      storageReachable,
      now: Date.now(),
    });
    setConnection(status.pill.text, status.pill.tone);
    const sync = element("sync");
    sync.dataset["synced"] = String(status.sync.saved);
    sync.textContent = status.sync.text;
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
    element("server").textContent = `${rotation.current} · ${params.transport === "ws" ? "WebSocket" : "SSE"}`;
  };
  element("banner-button").addEventListener("click", () => {
    switch (bannerButton) {
      case "retry":
        // Whichever is waiting: the connection (reconnecting, or stopped) or the server's storage.
        if (transport.status.state === "closed") client.connect().catch(() => undefined);
        else if (transport.status.state !== "open") transport.retryNow();
        else client.retryNow();
        break;
      case "adopt":
        client.adoptServerCopy().catch(() => undefined);
        break;
      case "dismiss":
        restored = undefined;
        break;
    }
    render();
  });
  client.on("restored", (event) => {
    restored = event;
  });
  for (const event of ["status", "synced", "restored"] as const) client.on(event, render);
  transport.onStatus(render);
  setInterval(render, 1_000);
  render();

  const refreshPeople = async (): Promise<void> => {
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
    if (status.state === "open") void refreshPeople();
  });
  setInterval(() => void refreshPeople(), STATS_INTERVAL_MS);

  client.connect().catch((error: unknown) => {
    showProblem(`Could not open the document: ${error instanceof Error ? error.message : String(error)}`);
  });
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
