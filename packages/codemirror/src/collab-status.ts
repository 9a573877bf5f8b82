import { EditorState, StateEffect, StateField, type Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";

/**
 * What the binding knows of its client, kept in the editor state so that an app can read it
 * (`collabStatus(view.state)`) and draw a status line.
 */
export interface CollabStatus {
  /** True once the client has a document (its first snapshot arrived). */
  readonly hasDocument: boolean;
  /** The client's connection state, as the client last reported it (`"live"`, `"refused"`...). */
  readonly connection: string;
  /** A reason the app gave with {@link setCollabReadOnly}, or `null`. */
  readonly appReadOnly: string | null;
  /**
   * Why the editor is read-only, or `null` when it can be edited: `"loading"` until the client
   * has a document, the connection state when the binding's `readOnlyWhen` says so (by default
   * `"refused"` and `"lost"`), else the app's reason.
   */
  readonly readOnly: string | null;
}

/**
 * Make the editor read-only for a reason of the app's own (`setCollabReadOnly.of("offline")`),
 * or lift that with `setCollabReadOnly.of(null)`. Remote edits still apply while read-only.
 */
export const setCollabReadOnly = StateEffect.define<string | null>();

/** The binding's own updates of the status. */
export const updateCollabStatus = StateEffect.define<{ hasDocument: boolean; connection: string; readOnlyWhen: boolean }>();

interface StatusValue extends CollabStatus {
  /** Whether the binding's `readOnlyWhen` holds for `connection`. */
  readonly connectionReadOnly: boolean;
}

function withReadOnly(value: Omit<StatusValue, "readOnly">): StatusValue {
  const readOnly = !value.hasDocument ? "loading" : value.connectionReadOnly ? value.connection : value.appReadOnly;
  return { ...value, readOnly };
}

export const collabStatusField = StateField.define<StatusValue>({
  create: () => withReadOnly({ hasDocument: false, connection: "offline", appReadOnly: null, connectionReadOnly: false }),
  update(value, tr) {
    let next = value;
    for (const effect of tr.effects) {
      if (effect.is(setCollabReadOnly)) next = withReadOnly({ ...next, appReadOnly: effect.value });
      else if (effect.is(updateCollabStatus)) {
        const { hasDocument, connection, readOnlyWhen } = effect.value;
        next = withReadOnly({ ...next, hasDocument, connection, connectionReadOnly: readOnlyWhen });
      }
    }
    return next;
  },
});

/** The collaboration status of an editor state that has the binding; `undefined` without it. */
export function collabStatus(state: EditorState): CollabStatus | undefined {
  const value = state.field(collabStatusField, false);
  if (value === undefined) return undefined;
  const { hasDocument, connection, appReadOnly, readOnly } = value;
  return { hasDocument, connection, appReadOnly, readOnly };
}

/**
 * The read-only switch: the state's `readOnly` facet and the view's `editable` follow the
 * status, and a change filter drops local edits while read-only (commands check `readOnly`,
 * but DOM input and an app's own dispatches do not). Remote transactions pass.
 */
export function collabReadOnly(isRemote: (tr: import("@codemirror/state").Transaction) => boolean): Extension {
  return [
    collabStatusField,
    EditorState.readOnly.compute([collabStatusField], (state) => state.field(collabStatusField).readOnly !== null),
    EditorView.editable.compute([collabStatusField], (state) => state.field(collabStatusField).readOnly === null),
    EditorState.changeFilter.of((tr) => isRemote(tr) || tr.startState.field(collabStatusField).readOnly === null),
  ];
}
