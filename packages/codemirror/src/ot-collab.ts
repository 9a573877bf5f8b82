import { Transaction, type EditorState, type Extension, type TransactionSpec } from "@codemirror/state";
import { ViewPlugin, type EditorView, type ViewUpdate } from "@codemirror/view";
import type { OTClient } from "@open-ot/client";
import { diffText, type TextOp } from "@open-ot/core";
import { collabReadOnly, updateCollabStatus } from "./collab-status.js";
import { remoteSelections, setRemoteSelections, type RemoteSelection } from "./remote-selections.js";
import { changesToTextOp, textOpToChanges } from "./text-op-changes.js";

/** The part of an `OTClient` for a text document that the binding uses. */
export type TextDocumentClient = Pick<
  OTClient<string, TextOp>,
  "on" | "submit" | "snapshot" | "hasDocument" | "connectionState" | "setPresence" | "clearPresence" | "presence"
>;

/**
 * How this person appears to the others, for the `presence` option of {@link otCollab}: the
 * `label` and `color` of the client's presence (docs/protocol.md, "Presence"). A label is shown,
 * never trusted.
 */
export interface CollabPresenceOptions {
  /** The name shown beside this person's caret in the others' editors. @default none (they show "someone") */
  readonly label?: string;
  /** A CSS colour for this person's caret and selection in the others' editors. @default none (they show grey) */
  readonly color?: string;
}

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
   * Wire presence in one line: publish the local selection as this client's presence (with this
   * label and colour; when it or the document changed, and the client coalesces sends too), and draw every
   * other client's presence as carets and selections with their names, redrawn on every
   * `presence`, `remoteOp`, `ack` and `snapshot` event from the client's own mapped ranges. The
   * client must have been created (or opened) with its `presence` option; when it was not,
   * `onError` receives the client's error once and nothing is published. Destroying the view
   * clears the presence.
   * @default undefined (no presence: use `onLocalSelection` and `setRemoteSelections` by hand)
   */
  presence?: CollabPresenceOptions;
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
  /**
   * The ranges last handed to `setPresence`, as text, so an unchanged selection is not sent
   * again; `""` after a change of the document, which always sends them again: a receiver maps
   * a caret through an insert at its very position by the type's `transformCursor`, which may
   * place it otherwise than CodeMirror mapped the local one, and the new send (at the new
   * revision) puts it back where this editor has it.
   */
  #lastPublished: string | undefined;
  /** `setPresence` threw (the client has no `presence` option): stop trying. */
  #presenceFailed = false;
  /** Inside {@link handleTransactions} (the view's update): a redraw must wait until it is over. */
  #inUpdate = false;

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
    if (options.presence !== undefined) {
      for (const event of ["presence", "remoteOp", "ack", "snapshot"] as const) {
        this.#unsubscribe.push(client.on(event, () => this.#drawPresence()));
      }
    }
    // The view's update cycle may be running (a plugin is built inside it): dispatch after it.
    queueMicrotask(() => {
      if (this.#destroyed) return;
      if (client.hasDocument) this.#replace(client.snapshot);
      else this.#host.dispatch({ effects: this.#statusEffect() });
    });
  }

  /** Hand the local edits of these transactions (already applied to the editor) to the client. */
  handleTransactions(transactions: readonly Transaction[]): void {
    this.#inUpdate = true;
    try {
      this.#handle(transactions);
    } finally {
      this.#inUpdate = false;
    }
  }

  #handle(transactions: readonly Transaction[]): void {
    let selectionMoved = false;
    for (const tr of transactions) {
      if (tr.selection !== undefined || tr.docChanged) selectionMoved = true;
      if (tr.docChanged && this.#lastPublished !== undefined) this.#lastPublished = "";
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
    if (this.#options.presence !== undefined && this.#lastPublished !== undefined && !this.#presenceFailed) {
      try {
        this.#client.clearPresence();
      } catch (error) {
        this.#options.onError?.(error);
      }
    }
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
    this.#drawPresence();
  }

  /** Show the other clients' presence (ranges already in the client's view, which the editor shows). */
  #drawPresence(): void {
    if (this.#destroyed || !this.#ready || this.#options.presence === undefined) return;
    if (this.#inUpdate) {
      queueMicrotask(() => this.#drawPresence());
      return;
    }
    const selections: RemoteSelection[] = [];
    for (const [author, peer] of this.#client.presence) {
      const name = peer.label ?? "someone";
      const color = peer.color ?? "#888";
      (peer.ranges ?? []).forEach((range, index) => {
        selections.push({ id: index === 0 ? author : `${author}#${index}`, name, color, anchor: range.anchor, head: range.head });
      });
    }
    this.#host.dispatch({ effects: setRemoteSelections.of(selections) });
  }

  #publishSelection(ranges: readonly LocalSelectionRange[]): void {
    const presence = this.#options.presence;
    if (presence === undefined || this.#presenceFailed || !this.#client.hasDocument) return;
    const key = JSON.stringify(ranges);
    if (key === this.#lastPublished) return;
    try {
      this.#client.setPresence({
        ...(presence.label === undefined ? {} : { label: presence.label }),
        ...(presence.color === undefined ? {} : { color: presence.color }),
        ranges: ranges.map((r) => ({ anchor: r.anchor, head: r.head })),
      });
      this.#lastPublished = key;
    } catch (error) {
      this.#presenceFailed = true;
      this.#options.onError?.(error);
    }
  }

  #statusEffect() {
    const connection: string = this.#client.connectionState;
    const readOnlyWhen = (this.#options.readOnlyWhen ?? defaultReadOnlyWhen)(connection);
    return updateCollabStatus.of({ hasDocument: this.#client.hasDocument, connection, readOnlyWhen });
  }

  #reportSelection(): void {
    const report = this.#options.onLocalSelection;
    if (report === undefined && this.#options.presence === undefined) return;
    const state = this.#host.state;
    const ranges = state.selection.ranges.map((r) => ({ anchor: r.anchor, head: r.head }));
    this.#publishSelection(ranges);
    report?.(ranges, state);
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
 * - with `presence: { label, color }`, the local selection is published as the client's presence
 *   and everyone else's is drawn as carets and selections with their names; without it, remote
 *   carets are drawn from `setRemoteSelections` and `onLocalSelection` reports the selection.
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
