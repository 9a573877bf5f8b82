/**
 * The editor page's entry point (bundled by build.mjs into dist/public/editor.js): a textarea
 * bound to an OTClient over a reconnecting WebSocket or SSE transport, plus the status line.
 */
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { connectionLabel } from "./connection-label.js";
import { createEditorTransport } from "./editor-transport.js";
import { parsePageParams } from "./page-params.js";
import { ServerRotation } from "./server-rotation.js";
import { TextareaBinding } from "./textarea-binding.js";

/** How often the "N editing here" count is refreshed. */
const STATS_INTERVAL_MS = 3_000;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`editor page: #${id} is missing from index.html`);
  return found as T;
}

function showProblem(text: string): void {
  const box = element<HTMLParagraphElement>("problem");
  box.textContent = text;
  box.hidden = false;
}

function start(): void {
  const editor = element<HTMLTextAreaElement>("editor");
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
  const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: params.docId });
  new TextareaBinding(editor, client);

  const showRevision = (): void => {
    if (client.hasDocument) element("revision").textContent = String(client.revision);
  };
  client.on("snapshot", showRevision);
  client.on("remoteOp", showRevision);
  client.on("ack", showRevision);
  client.on("synced", (synced) => {
    const sync = element("sync");
    sync.dataset["synced"] = String(synced);
    sync.textContent = synced ? "saved" : "sending…";
  });
  client.on("resync", (event) => {
    if (event.dropped !== undefined) showProblem("The server refused some of your latest edits; the document was reloaded without them.");
  });

  // The countdown ("reconnecting in 3 s") changes every second without a status event.
  const renderConnection = (): void => {
    const label = connectionLabel(transport.status, Date.now());
    setConnection(label.text, label.tone);
    element("server").textContent = `${rotation.current} · ${params.transport === "ws" ? "WebSocket" : "SSE"}`;
  };
  transport.onStatus(renderConnection);
  setInterval(renderConnection, 1_000);
  renderConnection();

  const refreshPeople = async (): Promise<void> => {
    if (transport.status.state !== "open") return;
    try {
      const response = await fetch(`${rotation.current}/stats?doc=${encodeURIComponent(params.docId)}`, { cache: "no-store" });
      if (!response.ok) return;
      const stats = (await response.json()) as { connections?: unknown };
      if (typeof stats.connections === "number") {
        element("people").textContent = String(stats.connections);
        element("people-label").textContent = stats.connections === 1 ? "editing here (you)" : "editing here";
      }
    } catch {
      // The count is a nicety: a failed poll leaves the last one shown, and the connection
      // status already says when the server is unreachable.
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

function setConnection(text: string, tone: string): void {
  const pill = element("connection");
  pill.dataset["tone"] = tone;
  element("connection-text").textContent = text;
}

start();
