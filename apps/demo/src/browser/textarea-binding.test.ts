import { TextType, type TextOp } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import { TextareaBinding, type EditableText, type TextEditingClient, type TextareaEvent } from "./textarea-binding.js";

/** A textarea as browsers behave: assigning `value` puts the caret at the end and scrolls to the top. */
class FakeTextarea implements EditableText {
  readOnly = false;
  scrollTop = 0;
  selectionStart = 0;
  selectionEnd = 0;
  selectionDirection: string | null = "none";
  #value = "";
  readonly #listeners = new Map<TextareaEvent, Set<() => void>>();

  get value(): string {
    return this.#value;
  }
  set value(next: string) {
    this.#value = next;
    this.selectionStart = this.selectionEnd = next.length;
    this.selectionDirection = "none";
    this.scrollTop = 0;
  }
  setSelectionRange(start: number, end: number, direction: "forward" | "backward" | "none" = "none"): void {
    this.selectionStart = start;
    this.selectionEnd = end;
    this.selectionDirection = direction;
  }
  addEventListener(type: TextareaEvent, listener: () => void): void {
    const set = this.#listeners.get(type) ?? new Set();
    set.add(listener);
    this.#listeners.set(type, set);
  }
  removeEventListener(type: TextareaEvent, listener: () => void): void {
    this.#listeners.get(type)?.delete(listener);
  }
  fire(type: TextareaEvent): void {
    for (const listener of this.#listeners.get(type) ?? []) listener();
  }
  /** The user types `text` over the selection, as a browser does, then fires `input`. */
  type(text: string): void {
    const v = this.#value;
    this.#value = v.slice(0, this.selectionStart) + text + v.slice(this.selectionEnd);
    this.selectionStart = this.selectionEnd = this.selectionStart + text.length;
    this.fireInput();
  }
  backspace(): void {
    if (this.selectionStart === this.selectionEnd) {
      if (this.selectionStart === 0) return;
      this.selectionStart--;
    }
    this.type("");
  }
  fireInput(): void {
    this.fire("input");
  }
  get listenerCount(): number {
    return [...this.#listeners.values()].reduce((n, set) => n + set.size, 0);
  }
}

/** A client with a view, as OTClient keeps one: submit applies to it, a remote op is applied to it before the event. */
class FakeClient implements TextEditingClient {
  hasDocument = false;
  snapshot = "";
  readonly submitted: TextOp[] = [];
  readonly #remote = new Set<(e: { op: TextOp }) => void>();
  readonly #snapshot = new Set<(e: { snapshot: string }) => void>();

  submit(op: TextOp): void {
    if (!this.hasDocument) throw new Error("submit before the snapshot");
    this.snapshot = TextType.apply(this.snapshot, op);
    this.submitted.push(op);
  }
  on(event: "remoteOp", listener: (event: { readonly op: TextOp }) => void): () => void;
  on(event: "snapshot", listener: (event: { readonly snapshot: string }) => void): () => void;
  on(event: "remoteOp" | "snapshot", listener: ((e: { op: TextOp }) => void) | ((e: { snapshot: string }) => void)): () => void {
    const set = (event === "remoteOp" ? this.#remote : this.#snapshot) as Set<typeof listener>;
    set.add(listener);
    return () => set.delete(listener);
  }
  receiveSnapshot(snapshot: string): void {
    this.hasDocument = true;
    this.snapshot = snapshot;
    for (const l of this.#snapshot) l({ snapshot });
  }
  receiveRemote(op: TextOp): void {
    this.snapshot = TextType.apply(this.snapshot, op);
    for (const l of this.#remote) l({ op });
  }
}

function setup(initial = "hello world"): { area: FakeTextarea; client: FakeClient; binding: TextareaBinding } {
  const area = new FakeTextarea();
  const client = new FakeClient();
  const binding = new TextareaBinding(area, client);
  client.receiveSnapshot(initial);
  return { area, client, binding };
}

describe("TextareaBinding", () => {
  it("keeps the textarea read-only until the first snapshot, then shows it", () => {
    const area = new FakeTextarea();
    const client = new FakeClient();
    new TextareaBinding(area, client);
    expect(area.readOnly).toBe(true);
    client.receiveSnapshot("abc");
    expect(area.readOnly).toBe(false);
    expect(area.value).toBe("abc");
  });

  it("shows the document at once when the client already has one", () => {
    const area = new FakeTextarea();
    const client = new FakeClient();
    client.receiveSnapshot("ready");
    new TextareaBinding(area, client);
    expect(area.value).toBe("ready");
    expect(area.readOnly).toBe(false);
  });

  it("submits each input as the diff of the old and new value", () => {
    const { area, client } = setup("hello world");
    area.setSelectionRange(5, 5);
    area.type(",");
    area.setSelectionRange(0, 5);
    area.type("Hi");
    area.backspace();
    expect(client.submitted).toEqual([
      [{ r: 5 }, { i: "," }],
      [{ i: "Hi" }, { d: 5 }],
      [{ r: 1 }, { d: 1 }],
    ]);
    expect(client.snapshot).toBe(area.value);
    expect(area.value).toBe("H, world");
  });

  it("submits nothing for an input event that changed nothing", () => {
    const { area, client } = setup("same");
    area.fireInput();
    expect(client.submitted).toEqual([]);
  });

  it("moves the caret right for remote text before it and leaves it for text after it", () => {
    const { area, client } = setup("hello world");
    area.setSelectionRange(6, 6);
    client.receiveRemote([{ i: ">> " }]);
    expect(area.value).toBe(">> hello world");
    expect([area.selectionStart, area.selectionEnd]).toEqual([9, 9]);
    client.receiveRemote([{ r: 13 }, { i: "!!" }]);
    expect(area.value).toBe(">> hello worl!!d");
    expect([area.selectionStart, area.selectionEnd]).toEqual([9, 9]);
  });

  it("pushes a collapsed caret along when remote text is typed exactly at it", () => {
    const { area, client } = setup("ab");
    area.setSelectionRange(1, 1);
    client.receiveRemote([{ r: 1 }, { i: "XY" }]);
    expect(area.value).toBe("aXYb");
    expect(area.selectionStart).toBe(3);
  });

  it("pulls the caret to the start of a remote deletion around it", () => {
    const { area, client } = setup("0123456789");
    area.setSelectionRange(5, 5);
    client.receiveRemote([{ r: 3 }, { d: 4 }]);
    expect(area.value).toBe("012789");
    expect([area.selectionStart, area.selectionEnd]).toEqual([3, 3]);
  });

  it("keeps a selection from growing when remote text lands on its edges, and keeps its direction", () => {
    const { area, client } = setup("0123456789");
    area.setSelectionRange(2, 5, "backward");
    client.receiveRemote([{ r: 2 }, { i: "A" }, { r: 3 }, { i: "B" }]);
    expect(area.value).toBe("01A234B56789");
    expect(area.value.slice(area.selectionStart, area.selectionEnd)).toBe("234");
    expect(area.selectionDirection).toBe("backward");
  });

  it("keeps the scroll position across a remote edit", () => {
    const { area, client } = setup("line\n".repeat(50));
    area.scrollTop = 120;
    client.receiveRemote([{ i: "top\n" }]);
    expect(area.scrollTop).toBe(120);
  });

  it("keeps an edit the textarea holds without an input event, and the remote op, when one arrives", () => {
    const { area, client } = setup("abc");
    // Something wrote to the textarea with no input event yet (an IME, an extension).
    area.value = "abcd";
    client.receiveRemote([{ i: "X" }]);
    expect(area.value).toBe("Xabcd");
    // The local edit was handed to the client, transformed past the remote op.
    expect(client.submitted).toEqual([[{ r: 4 }, { i: "d" }]]);
    expect(client.snapshot).toBe(area.value);
    // A later input is diffed against the merged text, so nothing is submitted twice.
    area.fireInput();
    expect(client.submitted).toHaveLength(1);
  });

  it("holds remote ops back while an input method composes, and merges them with the composed text at the end", () => {
    const { area, client } = setup("ab");
    area.setSelectionRange(2, 2);
    area.fire("compositionstart");
    area.type("k"); // the input method shows a half-composed character
    client.receiveRemote([{ i: "X" }]);
    area.type("a");
    // Nothing was sent, and the textarea was not written to (that would cancel the composition).
    expect(client.submitted).toEqual([]);
    expect(area.value).toBe("abka");
    client.receiveRemote([{ r: 1 }, { i: "Y" }]);
    // The input method replaces its preview with the final text.
    area.setSelectionRange(2, 4);
    area.type("か");
    area.fire("compositionend");
    expect(area.value).toBe("XYabか");
    expect(client.snapshot).toBe(area.value);
    expect(client.submitted).toEqual([[{ r: 4 }, { i: "か" }]]);
    expect([area.selectionStart, area.selectionEnd]).toEqual([5, 5]);
  });

  it("sends the composed text when a composition ends with no remote op in between", () => {
    const { area, client } = setup("ab");
    area.setSelectionRange(1, 1);
    area.fire("compositionstart");
    area.type("é");
    expect(client.submitted).toEqual([]);
    area.fire("compositionend");
    expect(client.submitted).toEqual([[{ r: 1 }, { i: "é" }]]);
  });

  it("replaces the content on a later snapshot and keeps the caret within the new text", () => {
    const { area, client } = setup("a long document");
    area.setSelectionRange(12, 14);
    client.receiveSnapshot("short");
    expect(area.value).toBe("short");
    expect([area.selectionStart, area.selectionEnd]).toEqual([5, 5]);
    area.setSelectionRange(5, 5);
    area.type("er");
    expect(client.submitted).toEqual([[{ r: 5 }, { i: "er" }]]);
  });

  it("stops listening after detach", () => {
    const { area, client, binding } = setup("abc");
    binding.detach();
    expect(area.listenerCount).toBe(0);
    client.receiveRemote([{ i: "X" }]);
    expect(area.value).toBe("abc");
  });
});
