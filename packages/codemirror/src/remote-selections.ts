import { StateEffect, StateField, type EditorState, type Extension, type Range } from "@codemirror/state";
import { Decoration, EditorView, WidgetType, type DecorationSet } from "@codemirror/view";

/** Another person's selection, as presence reports it, in positions of the current document. */
export interface RemoteSelection {
  /** Stable per person (an author label): a new set keeps an entry's place by it. */
  readonly id: string;
  /** Shown beside the caret. */
  readonly name: string;
  /** A CSS colour for the caret and, at lower opacity, the selection. */
  readonly color: string;
  /** Where the selection starts (where it was anchored). */
  readonly anchor: number;
  /** Where the caret is. */
  readonly head: number;
}

/**
 * The extension point for presence: replace the remote selections drawn in the editor with
 * `view.dispatch({ effects: setRemoteSelections.of(selections) })`. Positions are in the
 * editor's current document; between two updates the binding maps them through every change,
 * local and remote, so a caret stays on its character while people type.
 */
export const setRemoteSelections = StateEffect.define<readonly RemoteSelection[]>();

/** The remote selections as they stand (mapped through every change since they were set). */
export const remoteSelectionsField = StateField.define<readonly RemoteSelection[]>({
  create: () => [],
  update(value, tr) {
    let next = value;
    if (tr.docChanged && next.length > 0) {
      // Text inserted at an edge stays outside the selection; a caret stays before it.
      next = next.map((s) => {
        const forward = s.anchor <= s.head;
        const from = tr.changes.mapPos(forward ? s.anchor : s.head, s.anchor === s.head ? -1 : 1);
        const to = Math.max(from, tr.changes.mapPos(forward ? s.head : s.anchor, -1));
        return { ...s, anchor: forward ? from : to, head: forward ? to : from };
      });
    }
    for (const effect of tr.effects) if (effect.is(setRemoteSelections)) next = effect.value;
    const length = tr.state.doc.length;
    return next.map((s) =>
      s.anchor > length || s.head > length || s.anchor < 0 || s.head < 0
        ? { ...s, anchor: clamp(s.anchor, length), head: clamp(s.head, length) }
        : s,
    );
  },
  provide: (field) => EditorView.decorations.compute([field], (state) => decorate(state.field(field), state)),
});

function clamp(pos: number, length: number): number {
  return Math.max(0, Math.min(length, Math.trunc(pos) || 0));
}

class CaretWidget extends WidgetType {
  constructor(
    readonly name: string,
    readonly color: string,
    readonly below: boolean,
  ) {
    super();
  }
  override eq(other: CaretWidget): boolean {
    return other.name === this.name && other.color === this.color && other.below === this.below;
  }
  toDOM(): HTMLElement {
    const caret = document.createElement("span");
    caret.className = "cm-ot-caret";
    caret.style.borderLeftColor = this.color;
    const label = document.createElement("span");
    // On the first line there is no room above the caret inside the scroller.
    label.className = this.below ? "cm-ot-caret-label cm-ot-caret-label-below" : "cm-ot-caret-label";
    label.style.backgroundColor = this.color;
    label.textContent = this.name;
    caret.appendChild(label);
    return caret;
  }
  override ignoreEvent(): boolean {
    return true;
  }
}

function decorate(selections: readonly RemoteSelection[], state: EditorState): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  for (const s of selections) {
    const from = Math.min(s.anchor, s.head);
    const to = Math.max(s.anchor, s.head);
    if (from < to) {
      ranges.push(
        Decoration.mark({
          class: "cm-ot-selection",
          attributes: { style: `background-color: color-mix(in srgb, ${s.color} 25%, transparent)`, "data-ot-id": s.id },
        }).range(from, to),
      );
    }
    ranges.push(
      Decoration.widget({ widget: new CaretWidget(s.name, s.color, state.doc.lineAt(s.head).number === 1), side: 1 }).range(s.head),
    );
  }
  return Decoration.set(ranges, true);
}

const theme = EditorView.baseTheme({
  ".cm-ot-caret": { position: "relative", borderLeft: "2px solid", marginLeft: "-1px", marginRight: "-1px" },
  ".cm-ot-caret-label": {
    position: "absolute",
    top: "-1.3em",
    left: "-2px",
    fontSize: "0.75em",
    lineHeight: "1.2em",
    padding: "0 3px",
    color: "white",
    whiteSpace: "nowrap",
    borderRadius: "2px",
    pointerEvents: "none",
    zIndex: "1",
  },
  ".cm-ot-caret-label-below": { top: "1.2em" },
});

/**
 * Draw remote carets (a coloured bar with the person's name) and selections (their colour,
 * translucent). Included by `otCollab`; presence feeds it through {@link setRemoteSelections}.
 */
export function remoteSelections(): Extension {
  return [remoteSelectionsField, theme];
}
