import { LazyText, TextType, type OTType, type TextOp } from "@open-ot/core";

/** A document as the client holds it internally; only its {@link DocumentStore} reads it. */
export interface HeldDocument {
  readonly __brand: "HeldDocument";
}

/**
 * How the client holds its copies of the document (the server's and the view): what it applies
 * ops to on every message. Applying refuses exactly what `type.apply` refuses, and `read` gives
 * exactly the snapshot `type.apply` would have built.
 */
export interface DocumentStore<Snapshot, Op> {
  hold(snapshot: Snapshot): HeldDocument;
  apply(held: HeldDocument, op: Op): HeldDocument;
  read(held: HeldDocument): Snapshot;
}

/** Any type: the snapshot itself, each op applied with `type.apply`. */
function eagerStore<Snapshot, Op>(type: OTType<Snapshot, Op>): DocumentStore<Snapshot, Op> {
  return {
    hold: (snapshot) => snapshot as unknown as HeldDocument,
    apply: (held, op) => type.apply(held as unknown as Snapshot, op) as unknown as HeldDocument,
    read: (held) => held as unknown as Snapshot,
  };
}

/**
 * Core's `TextType`: a `LazyText`, so that applying an op costs what the op holds, not a copy
 * of the whole text; the string is built when it is read (and once per bound of pending ops).
 */
const textStore: DocumentStore<string, TextOp> = {
  // Anything but a string is kept as it is, so that `TextType.apply` refuses it as before.
  hold: (snapshot) => (typeof snapshot === "string" ? LazyText.of(snapshot) : snapshot) as unknown as HeldDocument,
  apply: (held, op) =>
    (held instanceof LazyText ? held.apply(op) : TextType.apply(held as unknown as string, op)) as unknown as HeldDocument,
  read: (held) => (held instanceof LazyText ? held.toString() : (held as unknown as string)),
};

/** The store for `type`: lazy text for core's `TextType`, the snapshot as it is for any other type. */
export function documentStoreFor<Snapshot, Op>(type: OTType<Snapshot, Op>): DocumentStore<Snapshot, Op> {
  if ((type as unknown) === TextType) return textStore as unknown as DocumentStore<Snapshot, Op>;
  return eagerStore(type);
}
