import type { DocumentLineage } from "./backend.js";

/** What a join asks about the document's life (the fields of `join` that matter here). */
export interface JoinClaim {
  /** The revision the client resumes from; `undefined` asks for a snapshot. */
  readonly revision: number | undefined;
  /** The epoch that revision belongs to, when the client knows one. */
  readonly epoch: string | undefined;
  /** The join carries a restore copy (the optional extension). */
  readonly restore: boolean;
}

/** What the hub does with a join, given the document's lineage (see {@link judgeJoin}). */
export type JoinDecision =
  /** No such document, and the hub does not create documents on join. */
  | { readonly kind: "not_found" }
  /** Create an empty document, then answer as for `open`. */
  | { readonly kind: "create" }
  /**
   * The document is not the one the client holds a copy of (gone, behind its revision, or of
   * another life): refuse with `bad_revision` and this `serverRevision`.
   */
  | { readonly kind: "lost"; readonly serverRevision: number | null }
  /** Recreate the document from the join's copy, on this compare-and-set condition (see `RestoreRequest.ifEpoch`). */
  | { readonly kind: "restore"; readonly ifEpoch: string | undefined }
  /** An ordinary join: `joined` from `revision` plus the replay, or a snapshot when `revision` is undefined or no longer replayable. */
  | { readonly kind: "open"; readonly revision: number | undefined };

/**
 * Decide a join from the document's lineage (`undefined`: it does not exist; an `epoch` of
 * `undefined`: the backend has no epochs). docs/protocol.md, "Lost documents and restore":
 *
 * - A client that holds a copy (it names an epoch, or a revision above 0) never creates a
 *   document: a missing one is lost (`serverRevision: null`), or restored from its copy.
 * - Same epoch: a revision ahead of the document means it lost its latest commits (lost, or
 *   restored when the document is still behind the copy).
 * - The epoch the document was restored from: revisions up to the restore point are the same
 *   content, so the join is served (a snapshot, since history starts there); a revision past it
 *   gets a snapshot too, onto which the client rebases its unacknowledged edits.
 * - Any other epoch: lost; only the application can decide between the two documents.
 * - A client or backend without epochs: the v1 rule (a revision ahead is `bad_revision`).
 */
export function judgeJoin(
  lineage: DocumentLineage | { readonly revision: number; readonly epoch: undefined; readonly restoredFrom?: undefined } | undefined,
  claim: JoinClaim,
  options: { readonly createOnJoin: boolean; readonly canRestore: boolean },
): JoinDecision {
  const { revision, epoch } = claim;
  const restore = claim.restore && options.canRestore && revision !== undefined;
  if (lineage === undefined) {
    if (!options.createOnJoin) return { kind: "not_found" };
    const holdsCopy = epoch !== undefined || (revision !== undefined && revision > 0);
    if (!holdsCopy) return { kind: "create" };
    return restore ? { kind: "restore", ifEpoch: undefined } : { kind: "lost", serverRevision: null };
  }
  const ahead = revision !== undefined && revision > lineage.revision;
  if (epoch === undefined || lineage.epoch === undefined) {
    return ahead ? { kind: "lost", serverRevision: lineage.revision } : { kind: "open", revision };
  }
  if (epoch === lineage.epoch) {
    if (!ahead) return { kind: "open", revision };
    return restore ? { kind: "restore", ifEpoch: lineage.epoch } : { kind: "lost", serverRevision: lineage.revision };
  }
  const from = lineage.restoredFrom;
  if (from !== undefined && from.epoch === epoch) {
    return { kind: "open", revision: revision !== undefined && revision <= from.revision ? revision : undefined };
  }
  return { kind: "lost", serverRevision: lineage.revision };
}
