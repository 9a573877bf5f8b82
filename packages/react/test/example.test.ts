// @vitest-environment happy-dom
// The README shows examples/todo-list.browser.ts as it is, and its component works: two lists
// on two connections edit one JSON document (add, toggle, remove) and show the same items.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OTConnection } from "@open-ot/client";
import { JsonType } from "@open-ot/json";
import { Hub, InProcessTransport, MemoryBackend, Server } from "@open-ot/server";
import { act, fireEvent, waitFor, within } from "@testing-library/react";
import { afterEach, expect, it } from "vitest";
import { mount } from "../examples/todo-list.browser.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it("the README shows the example file as it is", () => {
  // happy-dom's URL is not Node's: read by path.
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  const example = readFileSync(join(import.meta.dirname, "..", "examples", "todo-list.browser.ts"), "utf8");
  expect(readme).toContain(example.trim());
});

it("two lists on two connections see each other and add, toggle and remove items of one document", async () => {
  const backend = new MemoryBackend({ types: [JsonType] });
  const server = new Server(backend, { types: [JsonType] });
  const hub = new Hub({ server, docType: JsonType.name });
  cleanups.push(() => hub.close());
  await server.createDocument("todo", JsonType.name, { items: [] });
  const pages = ["alice", "bob"].map((name) => {
    const element = document.createElement("div");
    document.body.append(element);
    const connection = new OTConnection({ transport: new InProcessTransport(hub) });
    let unmount = (): void => undefined;
    act(() => {
      unmount = mount(element, connection, "todo", name);
    });
    cleanups.push(async () => {
      act(() => unmount());
      await connection.close();
      element.remove();
    });
    return within(element as HTMLElement);
  });
  const [alice, bob] = pages as [(typeof pages)[0], (typeof pages)[0]];
  await waitFor(() => expect(alice.getByText("saved")).toBeDefined());
  // Each sees the other in the people line (presence), not itself.
  await waitFor(() => expect(alice.getByText("Also here: bob")).toBeDefined());
  await waitFor(() => expect(bob.getByText("Also here: alice")).toBeDefined());

  const add = (page: typeof alice, text: string): void => {
    fireEvent.change(page.getByRole("textbox"), { target: { value: text } });
    fireEvent.click(page.getByText("add"));
  };
  act(() => add(alice, "milk"));
  act(() => add(bob, "eggs"));
  const texts = (page: typeof alice): string[] => page.queryAllByRole("listitem").map((li) => li.textContent ?? "");
  await waitFor(() => expect(texts(alice)).toHaveLength(2));
  await waitFor(() => expect(texts(bob)).toEqual(texts(alice)));

  act(() => {
    fireEvent.click(bob.getAllByRole("checkbox")[0]!);
    fireEvent.click(alice.getAllByText("remove")[1]!);
  });
  await waitFor(() => expect(texts(alice)).toHaveLength(1));
  await waitFor(() => expect(alice.getByText("saved")).toBeDefined());
  // Each sees the other in the people line (presence), not itself.
  await waitFor(() => expect(alice.getByText("Also here: bob")).toBeDefined());
  await waitFor(() => expect(bob.getByText("Also here: alice")).toBeDefined());
  await waitFor(() => expect(bob.getByText("saved")).toBeDefined());
  await waitFor(() => expect(texts(bob)).toEqual(texts(alice)));
  const checked = (page: typeof alice): boolean[] => page.getAllByRole("checkbox").map((box) => (box as HTMLInputElement).checked);
  expect(checked(bob)).toEqual(checked(alice));
});
