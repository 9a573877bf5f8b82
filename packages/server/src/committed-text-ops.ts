import { TextType, transformNormalTextOp, type TextOp } from "@open-ot/core";
import type { CommittedOp } from "./backend.js";

/**
 * Normal forms of committed text ops, by the op's identity. Committed ops are values nobody
 * mutates (the server never does; backends hand out shared read-only values), and a server
 * transforms each of them once per stale submit: at N clients on one document, N times. Their
 * normal form is found (and their shape checked) once instead. Weak keys: an op leaves the map
 * when the server's cache and the backend's read results drop it.
 */
const normalForms = new WeakMap<object, TextOp>();

/** `TextType.normalize(op)`, remembered; throws as it does on a malformed op. */
function normalForm(op: unknown): TextOp {
  const key = typeof op === "object" && op !== null ? op : undefined;
  const known = key === undefined ? undefined : normalForms.get(key);
  if (known !== undefined) return known;
  const normal = TextType.normalize(op as TextOp);
  if (key !== undefined) normalForms.set(key, normal);
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
