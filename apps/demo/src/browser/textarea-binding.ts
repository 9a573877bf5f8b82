import { TextType, diffText, transformCursor, type TextOp } from "@open-ot/core";

/** The part of an `HTMLTextAreaElement` the binding uses (a plain object in unit tests). */
export interface EditableText {
  value: string;
  readOnly: boolean;
  scrollTop: number;
  readonly selectionStart: number;
  readonly selectionEnd: number;
  readonly selectionDirection: string | null;
  setSelectionRange(start: number, end: number, direction?: "forward" | "backward" | "none"): void;
  addEventListener(type: TextareaEvent, listener: () => void): void;
  removeEventListener(type: TextareaEvent, listener: () => void): void;
}

/** The textarea events the binding listens to. */
export type TextareaEvent = "input" | "compositionstart" | "compositionend";

/** The part of `OTClient<string, TextOp>` the binding uses. */
export interface TextEditingClient {
  readonly hasDocument: boolean;
  readonly snapshot: string;
  submit(op: TextOp): void;
  on(event: "remoteOp", listener: (event: { readonly op: TextOp }) => void): () => void;
  on(event: "snapshot", listener: (event: { readonly snapshot: string }) => void): () => void;
}

/**
 * Keeps a textarea and an OT client in step: every `input` event becomes an op (the diff of
 * the textarea's previous and new value), every remote op is applied to the textarea with the
 * caret and selection moved through it, and a snapshot replaces the content.
 *
 * The textarea is read-only until the client has a document, because an edit made before the
 * first snapshot would have no revision to be based on.
 *
 * While an input method composes text (CJK input, dead keys), nothing is written to the
 * textarea, which would cancel the composition, and the half-composed text is not sent:
 * remote ops are held back, composed into one, and merged with the composed text when the
 * composition ends.
 */
export class TextareaBinding {
  /** The text the client's view holds, as last written to or read from the textarea. */
  #shown = "";
  /**
   * Set while an input method composes: the remote ops that arrived meanwhile, composed into one
   * (`undefined` when none). `#shown` then still holds the text as it was before them.
   */
  #composition: { deferred: TextOp | undefined } | undefined;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #onInput = (): void => {
    if (this.#composition === undefined) this.syncLocal();
  };
  readonly #onCompositionStart = (): void => {
    this.#composition ??= { deferred: undefined };
  };
  readonly #onCompositionEnd = (): void => {
    const composition = this.#composition;
    this.#composition = undefined;
    if (composition?.deferred !== undefined) this.applyRemote(composition.deferred);
    else this.syncLocal();
  };

  constructor(
    private readonly area: EditableText,
    private readonly client: TextEditingClient,
  ) {
    if (client.hasDocument) this.replace(client.snapshot);
    else area.readOnly = true;
    area.addEventListener("input", this.#onInput);
    area.addEventListener("compositionstart", this.#onCompositionStart);
    area.addEventListener("compositionend", this.#onCompositionEnd);
    this.#unsubscribe.push(
      client.on("remoteOp", ({ op }) => this.applyRemote(op)),
      client.on("snapshot", ({ snapshot }) => this.replace(snapshot)),
    );
  }

  /**
   * Submit what changed in the textarea since the binding last looked (the `input` handler).
   * Safe to call at any time; does nothing when nothing changed.
   */
  syncLocal(): void {
    if (!this.client.hasDocument) return;
    const value = this.area.value;
    const op = diffText(this.#shown, value);
    if (op.length === 0) return;
    this.#shown = value;
    this.client.submit(op);
  }

  /**
   * Apply a remote op (already transformed by the client against its unacknowledged edits) and
   * move the caret and selection through it.
   */
  applyRemote(op: TextOp): void {
    const composition = this.#composition;
    if (composition !== undefined) {
      composition.deferred = composition.deferred === undefined ? op : TextType.compose(composition.deferred, op);
      return;
    }
    const area = this.area;
    const value = area.value;
    let remote = op;
    if (value !== this.#shown) {
      // The textarea holds text not sent yet: a composition that just ended, or a change with
      // no input event (an extension writing to it). The remote op fits the client's view, not
      // the textarea: transform the two against each other so that neither edit is lost, then
      // hand the local one over.
      const local = diffText(this.#shown, value);
      remote = TextType.transform(op, local, "left");
      this.client.submit(TextType.transform(local, op, "right"));
    }
    const next = TextType.apply(value, remote);
    this.#shown = next;
    if (next === value) return;
    const { selectionStart: start, selectionEnd: end } = area;
    const direction = selectionDirection(area.selectionDirection);
    // A collapsed caret is pushed along by text typed at it, as a remote user's typing at your
    // caret would be; a selection keeps its extent: text inserted at either edge stays outside.
    const newStart = transformCursor(start, remote, "right");
    const newEnd = start === end ? newStart : Math.max(newStart, transformCursor(end, remote, "left"));
    this.#write(next, newStart, newEnd, direction);
  }

  /** Replace the whole content (a snapshot), keeping the caret where it was as far as the new text allows. */
  replace(snapshot: string): void {
    const area = this.area;
    // The document was replaced wholesale: held-back remote ops belong to the old one.
    if (this.#composition !== undefined) this.#composition.deferred = undefined;
    this.#shown = snapshot;
    area.readOnly = false;
    if (area.value === snapshot) return;
    const direction = selectionDirection(area.selectionDirection);
    this.#write(snapshot, Math.min(area.selectionStart, snapshot.length), Math.min(area.selectionEnd, snapshot.length), direction);
  }

  /** Stop listening to the textarea and the client. */
  detach(): void {
    this.area.removeEventListener("input", this.#onInput);
    this.area.removeEventListener("compositionstart", this.#onCompositionStart);
    this.area.removeEventListener("compositionend", this.#onCompositionEnd);
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  #write(value: string, start: number, end: number, direction: "forward" | "backward" | "none"): void {
    const area = this.area;
    // Assigning `value` scrolls some browsers' textareas to the top and puts the caret at the
    // end; restore both so that a remote edit does not move the reader's view.
    const scrollTop = area.scrollTop;
    area.value = value;
    area.setSelectionRange(start, end, direction);
    area.scrollTop = scrollTop;
  }
}

function selectionDirection(value: string | null): "forward" | "backward" | "none" {
  return value === "backward" || value === "forward" ? value : "none";
}
