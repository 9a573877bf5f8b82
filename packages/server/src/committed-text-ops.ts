import { TextType, transformNormalTextOp, type TextOp } from "@open-ot/core";
import type { CommittedOp } from "./backend.js";

/**
 * Where a committed text op keeps its normal form once found (a non-enumerable property, which
 * neither JSON, spreads, `structuredClone` nor the backends' copies carry). Committed ops are
 * values nobody mutates (the server never does; backends hand out shared read-only values), and
 * a server transforms each of them once per stale submit: at N clients on one document, N times.
 * Their normal form is found (and their shape checked) once instead.
 *
 * Not a `WeakMap` keyed by the op: with a new key per commit, V8's young-generation GC kept the
 * map's entries alive until the next full GC (docs/decisions/001).
 */
const NORMAL_FORM: unique symbol = Symbol("normal form");

/** `TextType.normalize(op)`, remembered; throws as it does on a malformed op. */
function normalForm(op: unknown): TextOp {
  const holder = typeof op === "object" && op !== null ? (op as { [NORMAL_FORM]?: TextOp }) : undefined;
  const known = holder?.[NORMAL_FORM];
  if (known !== undefined) return known;
  const normal = TextType.normalize(op as TextOp);
  if (holder !== undefined && Object.isExtensible(holder)) Object.defineProperty(holder, NORMAL_FORM, { value: normal });
  return normal;
}

/**
 * `op` transformed over `committed` in order, the incoming op on the right, exactly as
 * `TextType.transform(op, c.op, "right")` one after the other would give it (and throwing the
 * same `InvalidOpError` for a malformed committed op), for an `op` in normal form, as
 * `TextType.validate` and `TextType.transform` return ops. Neither `op` nor the transform
 * outputs are checked again: only the committed ops are, once each.
 */
export function transformOverCommitted(op: TextOp, committed: readonly CommittedOp[]): TextOp {
  let current = op;
  for (const c of committed) current = transformNormalTextOp(current, normalForm(c.op), "right");
  return current;
}
