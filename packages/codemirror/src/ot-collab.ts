import { Transaction, type EditorState, type Extension, type TransactionSpec } from "@codemirror/state";
import { ViewPlugin, type EditorView, type ViewUpdate } from "@codemirror/view";
import type { OTClient } from "@open-ot/client";
import { diffText, type TextOp } from "@open-ot/core";
import { collabReadOnly, updateCollabStatus } from "./collab-status.js";
import { remoteSelections } from "./remote-selections.js";
import { changesToTextOp, textOpToChanges } from "./text-op-changes.js";

/** The part of an `OTClient` for a text document that the binding uses. */
export type TextDocumentClient = Pick<OTClient<string, TextOp>, "on" | "submit" | "snapshot" | "hasDocument" | "connectionState">;

/** A local selection range, as the binding reports it for presence. */
export interface LocalSelectionRange {
  readonly anchor: number;
  readonly head: number;
}

/** Options of {@link otCollab}. */
export interface OTCollabOptions {
  /**
   * Which connection states make the editor read-only (the state is the client's
   * `connectionState`, passed as a string so that states added later fit).
   * @default `(state) => state === "refused" || state === "lost"`
   */
  readOnlyWhen?: (connection: string) => boolean;
  /**
   * Called with the local selection whenever it changes (by the user, or mapped through a
   * remote edit), and once when the document arrives: the hook for publishing presence.
   * @default undefined
   */
  onLocalSelection?: (ranges: readonly LocalSelectionRange[], state: EditorState) => void;
  /**
   * Called when a local edit could not be handed to the client (the editor and the client
   * disagreed); the editor is reset to the client's document.
   * @default undefined (nothing is reported)
   */
  onError?: (error: unknown) => void;
}

/** The editor as the binding drives it: an `EditorView`, or a test's stand-in. */
export interface EditorHost {
  readonly state: EditorState;
  dispatch(spec: TransactionSpec): void;
}

const defaultReadOnlyWhen = (connection: string): boolean => connection === "refused" || connection === "lost";

/** Remote transactions: applied from the client, never sent back, kept out of the undo history. */
function remoteSpec(spec: TransactionSpec): TransactionSpec {
  return { ...spec, annotations: [Transaction.remote.of(true), Transaction.addToHistory.of(false)] };
}

function isRemote(tr: Transaction): boolean {
  return tr.annotation(Transaction.remote) === true;
}

/**
 * Keeps an editor and a client's text document equal. Local transactions become ops submitted
 * to the client; the client's remote ops and snapshots become remote transactions. The editor's
 * document always equals the client's view (`client.snapshot`) between transactions.
 *
 * `otCollab` runs one per `EditorView`; a test can drive one with an {@link EditorHost} over a
 * bare `EditorState` (no DOM) and call {@link handleTransactions} after each dispatch.
 */
export class OTCodeMirrorBinding {
  readonly #client: TextDocumentClient;
  readonly #host: EditorHost;
  readonly #options: OTCollabOptions;
  readonly #unsubscribe: (() => void)[] = [];
  #destroyed = false;
  /** False until the editor first showed the client's document: remote ops before that are in it. */
  #ready = false;

  constructor(client: TextDocumentClient, host: EditorHost, options: OTCollabOptions = {}) {
    this.#client = client;
    this.#host = host;
    this.#options = options;
    this.#unsubscribe.push(
      client.on("snapshot", ({ snapshot }) => this.#replace(snapshot)),
      client.on("remoteOp", ({ op }) => {
        if (this.#ready) this.#host.dispatch(remoteSpec({ changes: textOpToChanges(op) }));
      }),
      client.on("connection", () => this.#host.dispatch({ effects: this.#statusEffect() })),
    );
    // The view's update cycle may be running (a plugin is built inside it): dispatch after it.
    queueMicrotask(() => {
      if (this.#destroyed) return;
      if (client.hasDocument) this.#replace(client.snapshot);
      else this.#host.dispatch({ effects: this.#statusEffect() });
    });
  }

  /** Hand the local edits of these transactions (already applied to the editor) to the client. */
  handleTransactions(transactions: readonly Transaction[]): void {
    let selectionMoved = false;
    for (const tr of transactions) {
      if (tr.selection !== undefined || tr.docChanged) selectionMoved = true;
      if (!tr.docChanged || isRemote(tr)) continue;
      try {
        this.#client.submit(changesToTextOp(tr.changes));
      } catch (error) {
        // The editor no longer matches the client: take the client's document again.
        this.#options.onError?.(error);
        queueMicrotask(() => {
          if (!this.#destroyed && this.#client.hasDocument) this.#replace(this.#client.snapshot);
        });
        return;
      }
    }
    if (selectionMoved) this.#reportSelection();
  }

  /** Stop following the client. */
  destroy(): void {
    this.#destroyed = true;
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /**
   * Make the editor show `text` (a first snapshot, or a resync): as the smallest replacement of
   * what it shows, so the selection and the undo history are mapped through it rather than lost.
   * The client's snapshot already holds the unacknowledged local edits, rebased.
   */
  #replace(text: string): void {
    const current = this.#host.state.doc.toString();
    const changes = current === text ? [] : textOpToChanges(diffText(current, text));
    this.#host.dispatch(remoteSpec({ changes, effects: this.#statusEffect() }));
    this.#ready = true;
    this.#reportSelection();
  }

  #statusEffect() {
    const connection: string = this.#client.connectionState;
    const readOnlyWhen = (this.#options.readOnlyWhen ?? defaultReadOnlyWhen)(connection);
    return updateCollabStatus.of({ hasDocument: this.#client.hasDocument, connection, readOnlyWhen });
  }

  #reportSelection(): void {
    const report = this.#options.onLocalSelection;
    if (report === undefined) return;
    const state = this.#host.state;
    report(
      state.selection.ranges.map((r) => ({ anchor: r.anchor, head: r.head })),
      state,
    );
  }
}

/**
 * The CodeMirror 6 extension that binds an `EditorView` to a client's text document:
 *
 * ```ts
 * const client = new OTClient({ type: TextType, transport, docId: "notes" });
 * const view = new EditorView({ parent, extensions: [basicSetup, otCollab(client)] });
 * await client.connect();
 * ```
 *
 * - local edits become text ops (`{r}/{i}/{d}` in UTF-16 units, as CodeMirror counts);
 * - remote ops become transactions annotated `Transaction.remote` (not sent back) that map the
 *   local selection;
 * - a resync replaces the content by the client's rebased view, keeping local edits;
 * - undo/redo stays local: remote transactions carry `addToHistory: false`, so CodeMirror's
 *   `history()` undoes your own edits only, mapped through everyone else's;
 * - the editor is read-only until the document arrives and while the connection is refused or
 *   lost (`readOnlyWhen`), or when the app says so (`setCollabReadOnly`); `collabStatus(state)`
 *   tells why;
 * - remote carets and selections are drawn from `setRemoteSelections` (the presence extension
 *   point), and `onLocalSelection` reports the local selection to publish.
 */
export function otCollab(client: TextDocumentClient, options: OTCollabOptions = {}): Extension {
  const plugin = ViewPlugin.define((view: EditorView) => {
    const binding = new OTCodeMirrorBinding(client, view, options);
    return {
      update: (update: ViewUpdate) => binding.handleTransactions(update.transactions),
      destroy: () => binding.destroy(),
    };
  });
  return [collabReadOnly(isRemote), remoteSelections(), plugin];
}

/** The binding's pieces without a view plugin, for driving a bare `EditorState` (tests, workers). */
export function otCollabState(): Extension {
  return [collabReadOnly(isRemote), remoteSelections()];
}
