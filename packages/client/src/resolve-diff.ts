import { diffText, type OTType, type TextOp } from "@open-ot/core";
import type { DiffFunction } from "./rebase-onto-snapshot.js";

/** An OT type that can compute the op between two of its snapshots. */
interface DiffCapable<Snapshot, Op> {
  diff(from: Snapshot, to: Snapshot): Op;
}

function hasDiff<Snapshot, Op>(type: OTType<Snapshot, Op>): type is OTType<Snapshot, Op> & DiffCapable<Snapshot, Op> {
  return typeof (type as Partial<DiffCapable<Snapshot, Op>>).diff === "function";
}

/**
 * The diff the client uses to keep local edits across a resync: the `diff` option, else the
 * type's own `diff` method, else core's `diffText` for the protocol's `"text"` type (whose
 * snapshots are strings and ops `TextOp`s, docs/protocol.md "Text ops"), else none.
 */
export function resolveDiff<Snapshot, Op>(
  type: OTType<Snapshot, Op>,
  option: DiffFunction<Snapshot, Op> | undefined,
): DiffFunction<Snapshot, Op> | undefined {
  if (option !== undefined) return option;
  if (hasDiff(type)) return (from, to) => type.diff(from, to);
  if (type.name === "text") {
    const text: DiffFunction<string, TextOp> = diffText;
    // The protocol fixes what "text" means: Snapshot is string and Op is TextOp here.
    return text as unknown as DiffFunction<Snapshot, Op>;
  }
  return undefined;
}
