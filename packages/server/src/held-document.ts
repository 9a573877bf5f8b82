/**
 * How the server holds a document in memory: a text document of this package's `TextType` as
 * a `LazyText`, anything else as its type's snapshot, and the type functions on either.
 */
import { LazyText, TextType, type TextOp } from "@open-ot/core";
import type { AnyOTType } from "./server-types.js";

/**
 * How the cache holds a document of `type`. Text documents are held as a {@link LazyText}, so a
 * commit costs what its op holds rather than what the document holds (docs/decisions/024);
 * `LazyText` validates and applies exactly as `TextType` does. The special case is by identity
 * with this package's `TextType`: a type registered under the name "text" but implemented
 * elsewhere keeps the generic path, whose behaviour is its own.
 */
export function held(type: AnyOTType, snapshot: unknown): unknown {
  return type === (TextType as AnyOTType) && typeof snapshot === "string" ? LazyText.of(snapshot) : snapshot;
}

/** The snapshot a held document stands for (builds a {@link LazyText}'s string, once). */
export function snapshotValue(snapshot: unknown): unknown {
  return snapshot instanceof LazyText ? snapshot.toString() : snapshot;
}

/** The size of a held document (see `ServerOptions.maxDocumentSize`); 0 when it cannot be measured. */
export function documentSize(type: AnyOTType, snapshot: unknown): number {
  if (snapshot instanceof LazyText) return snapshot.length;
  try {
    return type.size !== undefined ? type.size(snapshot) : (JSON.stringify(snapshot)?.length ?? 0);
  } catch {
    return 0;
  }
}

/** `type.validate(op, snapshot)` on a held document (the op as it is when the type has no validate). */
export function validateOn(type: AnyOTType, snapshot: unknown, op: unknown): unknown {
  if (snapshot instanceof LazyText) return snapshot.validate(op);
  return type.validate ? type.validate(op, snapshot) : op;
}

/** `type.apply(snapshot, op)` on a held document; the result is held the same way. */
export function applyOn(type: AnyOTType, snapshot: unknown, op: unknown): unknown {
  return snapshot instanceof LazyText ? snapshot.apply(op as TextOp) : type.apply(snapshot, op);
}
