/**
 * Which side an op is on when two concurrent ops are transformed against each other.
 * With `transform(a, b, "left")`, `a` wins ties (its inserts go first); with `"right"`, `b` does.
 */
export type Side = "left" | "right";

/**
 * An operational-transformation type: the operations on one kind of document.
 *
 * The shape matches the published OpenOT `OTType`. Implementations must satisfy, for every
 * document `s` and concurrent ops `a`, `b` valid on `s`:
 * `apply(apply(s, a), transform(b, a, "right")) === apply(apply(s, b), transform(a, b, "left"))`.
 */
export interface OTType<Snapshot, Op> {
  /** The type's name as it travels in `snapshot.docType` (for example `"text"`). */
  readonly name: string;
  /** A new, empty document (or the given initial one). */
  create(initial?: Snapshot): Snapshot;
  /** Apply `op` to `snapshot` and return the new snapshot. Throws on an op that does not fit. */
  apply(snapshot: Snapshot, op: Op): Snapshot;
  /** Transform `opA` so that it applies after the concurrent `opB`. `side` breaks ties. */
  transform(opA: Op, opB: Op, side: Side): Op;
  /** One op with the effect of `opA` followed by `opB`. */
  compose(opA: Op, opB: Op): Op;
  /**
   * The op that undoes `op`. Types whose ops do not carry what they remove (text deletes
   * carry only a count) need the snapshot `op` was applied to.
   */
  invert?(op: Op, snapshot?: Snapshot): Op;
  /** The canonical form of an op (no zero-length components, merged neighbours, no trailing retain). */
  normalize?(op: Op): Op;
  /**
   * Check untrusted input and return it as a normalised op; with `snapshot`, also check that
   * it fits that document. Throws an {@link InvalidOpError} saying what is wrong.
   */
  validate?(op: unknown, snapshot?: Snapshot): Op;
  /**
   * The size of a document, in units the type chooses (text: UTF-16 code units), which a
   * server compares with its maximum document size. Without it a server uses the length of
   * `JSON.stringify(snapshot)`.
   */
  size?(snapshot: Snapshot): number;
  /**
   * Map a position (a caret, a selection end) in a document through `op` applied to it. Clients
   * use it to keep peers' presence on the right place; a type without it gets presence without
   * ranges.
   */
  transformCursor?(position: number, op: Op, side?: Side): number;
}

/** Thrown by {@link OTType.validate} and `apply` for an op that is malformed or does not fit the document. */
export class InvalidOpError extends Error {
  override readonly name = "InvalidOpError";
  /** The protocol error code this maps to. */
  readonly code = "invalid_op" as const;
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor -- makes Error's optional message required
  constructor(message: string) {
    super(message);
  }
}
