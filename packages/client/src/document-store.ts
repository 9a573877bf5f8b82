import { isNormalTextOp, LazyText, TextType, transformNormalTextOp, type OTType, type Side, type TextOp } from "@open-ot/core";

/** A document as the client holds it internally; only its {@link DocumentStore} reads it. */
export interface HeldDocument {
  readonly __brand: "HeldDocument";
}

/** A remote op taken in: the server's copy with it applied, and the op as {@link DocumentStore.checked} takes it. */
export interface ReceivedOp<Op> {
  readonly held: HeldDocument;
  readonly op: Op;
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
  /**
   * A remote op, untrusted: checked against the server's copy `held` (refusing exactly what
   * `apply` refuses) and applied to it. The op returned is the one to transform with
   * {@link DocumentStore.checked}: the same edit, possibly in another form (text: normal form).
   */
  receive(held: HeldDocument, op: Op): ReceivedOp<Op>;
  /**
   * The type to transform ops the client has checked already: a remote op from `receive`, its
   * own edits (checked by `apply` at submit) and what transforming and composing those gives.
   * Its `transform` gives what `type.transform` gives for such ops, without checking them again.
   */
  readonly checked: OTType<Snapshot, Op>;
}

/** Any type: the snapshot itself, each op applied with `type.apply`. */
function eagerStore<Snapshot, Op>(type: OTType<Snapshot, Op>): DocumentStore<Snapshot, Op> {
  const apply = (held: HeldDocument, op: Op): HeldDocument => type.apply(held as unknown as Snapshot, op) as unknown as HeldDocument;
  return {
    hold: (snapshot) => snapshot as unknown as HeldDocument,
    apply,
    read: (held) => held as unknown as Snapshot,
    receive: (held, op) => ({ held: apply(held, op), op }),
    checked: type,
  };
}

/** `op`, checked already, in normal form: itself when it is (the usual case), else normalised. */
function normalForm(op: TextOp): TextOp {
  return isNormalTextOp(op) ? op : TextType.normalize(op);
}

/**
 * `TextType` for ops the client has checked: `transform` skips the checks and normalising that
 * `TextType.transform` repeats on every call (the ops are well-formed, and nearly always in
 * normal form already), and gives the same op.
 */
const checkedTextType: OTType<string, TextOp> = {
  ...TextType,
  transform: (op: TextOp, other: TextOp, side: Side) => transformNormalTextOp(normalForm(op), normalForm(other), side),
};

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
  receive: (held, op) => {
    if (!(held instanceof LazyText)) {
      const next = TextType.apply(held as unknown as string, op) as unknown as HeldDocument;
      return { held: next, op: TextType.normalize(op) };
    }
    // Checked once: `validate` judges the op against the document and the apply of what it
    // returned does not judge it again.
    const normal = held.validate(op);
    return { held: held.apply(normal) as unknown as HeldDocument, op: normal };
  },
  checked: checkedTextType,
};

/** The store for `type`: lazy text for core's `TextType`, the snapshot as it is for any other type. */
export function documentStoreFor<Snapshot, Op>(type: OTType<Snapshot, Op>): DocumentStore<Snapshot, Op> {
  if ((type as unknown) === TextType) return textStore as unknown as DocumentStore<Snapshot, Op>;
  return eagerStore(type);
}
