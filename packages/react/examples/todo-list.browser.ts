// A shared to-do list in React: every page that shows it edits the same JSON document.
import { OTConnection } from "@open-ot/client";
import { insertOp, JsonType, removeOp, replaceOp } from "@open-ot/json";
import { OTConnectionProvider, useDocument, usePresence, useSyncStatus } from "@open-ot/react";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { createElement as h, useEffect, useState, type ReactNode } from "react";
import { createRoot } from "react-dom/client";

interface Todo {
  readonly text: string;
  readonly done: boolean;
}

export function TodoList({ docId }: { readonly docId: string }): ReactNode {
  const { snapshot, submit } = useDocument(docId, JsonType); // re-renders when the list changes
  const sync = useSyncStatus(docId); // re-renders when the connection or sync state changes
  const [text, setText] = useState("");
  const items = (snapshot as { items?: Todo[] } | undefined)?.items;
  if (items === undefined) return h("p", null, sync?.status.reason ?? "Opening…");
  const add = (): void => {
    submit(insertOp(["items", items.length], { text, done: false }));
    setText("");
  };
  return h(
    "div",
    null,
    h(
      "ul",
      null,
      ...items.map((todo, i) =>
        h(
          "li",
          { key: i },
          h("input", {
            type: "checkbox",
            checked: todo.done,
            onChange: () => submit(replaceOp(["items", i, "done"], todo.done, !todo.done)),
          }),
          h("span", null, todo.text),
          h("button", { onClick: () => submit(removeOp(["items", i])) }, "remove"),
        ),
      ),
    ),
    h("input", { value: text, onChange: (e: { target: HTMLInputElement }) => setText(e.target.value) }),
    h("button", { onClick: add, disabled: text === "" }, "add"),
    h("p", null, sync?.synced === false ? "saving…" : sync?.status.state === "live" ? "saved" : sync?.status.reason),
  );
}

/** Who else has the list open; shows this user as `name` to them (cleared when the component goes). */
export function People({ docId, name }: { readonly docId: string; readonly name: string }): ReactNode {
  const { peers, setPresence } = usePresence(docId, JsonType); // re-renders when someone comes, goes or renames
  useEffect(() => setPresence({ label: name }), [name, setPresence]);
  const others = [...peers.values()].map((peer) => peer.label ?? "someone");
  return h("p", null, others.length === 0 ? "Nobody else is here." : `Also here: ${others.join(", ")}`);
}

/** Render the list into `element`; the connection is the application's (close it when done). */
export function mount(element: Element, connection: OTConnection, docId: string, name = "guest"): () => void {
  const root = createRoot(element);
  root.render(h(OTConnectionProvider, { connection }, h(People, { docId, name }), h(TodoList, { docId })));
  return () => root.unmount();
}

// On a page with <div id="todo">, served with the WebSocket binding at /ws and a JSON document "todo".
const element = document.querySelector("#todo");
if (element !== null) {
  const transport = new ReconnectingTransport(() => new WebSocketTransport(`ws://${location.host}/ws`));
  mount(element, new OTConnection({ transport }), "todo");
}
