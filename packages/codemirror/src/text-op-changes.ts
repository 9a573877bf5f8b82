import type { ChangeSet, ChangeSpec } from "@codemirror/state";
import type { TextOp } from "@open-ot/core";

/**
 * The text op of a CodeMirror change set. Both count UTF-16 code units, so positions carry
 * over unchanged. A replaced range becomes its insert followed by its delete, so the inserted
 * text sits where CodeMirror put it (at the start of the range); no insert is moved across a
 * delete. Returns `[]` for an empty change set.
 */
export function changesToTextOp(changes: ChangeSet): TextOp {
  const op: TextOp = [];
  let pos = 0;
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    if (fromA > pos) op.push({ r: fromA - pos });
    const text = inserted.toString();
    if (text.length > 0) op.push({ i: text });
    if (toA > fromA) op.push({ d: toA - fromA });
    pos = toA;
  });
  return op;
}

/**
 * CodeMirror change specs for a text op on the editor's current document. All positions refer
 * to that document (as CodeMirror reads an array of specs); an insert goes where the op puts it,
 * before or after a neighbouring delete as the op orders them.
 */
export function textOpToChanges(op: TextOp): ChangeSpec[] {
  const changes: ChangeSpec[] = [];
  let pos = 0;
  for (const c of op) {
    if ("r" in c) {
      pos += c.r;
    } else if ("i" in c) {
      if (c.i.length > 0) changes.push({ from: pos, insert: c.i });
    } else if (c.d > 0) {
      changes.push({ from: pos, to: pos + c.d });
      pos += c.d;
    }
  }
  return changes;
}
