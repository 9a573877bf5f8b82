/**
 * The to-do page's entry point (bundled by build.mjs into dist/public/todo.js): a shared list
 * in the JSON document "todo", rendered with the React hooks of @open-ot/react over one
 * OTConnection (WebSocket, or SSE with ?transport=sse; ?servers= as on the editor page).
 */
import { OTConnection } from "@open-ot/client";
import { insertOp, JsonType, removeOp, replaceOp } from "@open-ot/json";
import { OTConnectionProvider, useDocument, useSyncStatus } from "@open-ot/react";
import { createElement as h, useState, type ChangeEvent, type ReactNode, type SyntheticEvent } from "react";
import { createRoot } from "react-dom/client";
import { createEditorTransport } from "./editor-transport.js";
import { parsePageParams } from "./page-params.js";
import { ServerRotation } from "./server-rotation.js";

/** The demo server creates it as a JSON document at start. */
const DOC = "todo";

/** One item; `id` keeps React's keys stable while others insert and remove around it. */
interface Todo {
  readonly id: string;
  readonly text: string;
  readonly done: boolean;
}

/** The items of the document, or none when it holds something else. */
function itemsOf(snapshot: unknown): readonly Todo[] {
  const items = (snapshot as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? (items as Todo[]) : [];
}

function StatusLine(): ReactNode {
  const sync = useSyncStatus(DOC);
  const state = sync?.status.state ?? "connecting";
  const text = sync === undefined ? "connecting…" : state === "live" ? (sync.synced ? "saved" : "saving…") : sync.status.reason;
  return h(
    "section",
    { className: "status" },
    h(
      "span",
      {
        id: "connection",
        className: "pill",
        "data-state": state,
        "data-synced": String(sync?.synced ?? true),
        "data-tone": state === "live" ? "ok" : state === "offline" ? "offline" : "waiting",
      },
      h("span", { className: "dot" }),
      h("span", null, text),
    ),
  );
}

function TodoList(): ReactNode {
  const { snapshot, submit, error } = useDocument(DOC, JsonType);
  const [text, setText] = useState("");
  if (error !== undefined)
    return h("p", { className: "problem" }, error instanceof Error ? error.message : "The list could not be opened.");
  if (snapshot === undefined) return h("p", null, "Loading…");
  const items = itemsOf(snapshot);
  const add = (event: SyntheticEvent): void => {
    event.preventDefault();
    if (text.trim() === "") return;
    submit(insertOp(["items", items.length], { id: crypto.randomUUID().slice(0, 8), text: text.trim(), done: false }));
    setText("");
  };
  return h(
    "main",
    { style: { flexDirection: "column" } },
    h(
      "ul",
      null,
      ...items.map((todo, i) =>
        h(
          "li",
          { key: todo.id, "data-id": todo.id, "data-done": String(todo.done) },
          h("input", {
            type: "checkbox",
            checked: todo.done,
            "aria-label": `done: ${todo.text}`,
            onChange: () => submit(replaceOp(["items", i, "done"], todo.done, !todo.done)),
          }),
          h("span", { className: "text" }, todo.text),
          h("button", { type: "button", className: "remove", onClick: () => submit(removeOp(["items", i])) }, "remove"),
        ),
      ),
    ),
    h(
      "form",
      { onSubmit: add },
      h("input", {
        type: "text",
        name: "text",
        placeholder: "Something to do",
        value: text,
        onChange: (event: ChangeEvent<HTMLInputElement>) => setText(event.currentTarget.value),
      }),
      h("button", { type: "submit" }, "add"),
    ),
  );
}

function start(): void {
  const root = document.getElementById("todo");
  if (root === null) throw new Error("to-do page: #todo is missing from todo.html");
  const params = parsePageParams(location.href, DOC);
  const connection = new OTConnection({
    transport: createEditorTransport({ rotation: new ServerRotation(params.servers), kind: params.transport }),
  });
  createRoot(root).render(h(OTConnectionProvider, { connection }, h(StatusLine), h(TodoList)));
  // Tell the server at once that this page is gone (a closed socket would also do, later).
  addEventListener("pagehide", () => {
    connection.close().catch(() => undefined);
  });
}

start();
