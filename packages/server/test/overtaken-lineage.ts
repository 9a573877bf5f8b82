import { waitUntil } from "@open-ot/harness";
import type { DocumentLineage, IBackendAdapter } from "../src/backend.js";

/** What {@link overtakenLineage} gives a test. */
export interface OvertakenLineage {
  /** `store`, but with the lineage read that {@link arm} prepares. */
  readonly backend: IBackendAdapter;
  /** Let the next lineage read be overtaken. */
  arm(): void;
  /** True from {@link arm} until the overtaken read has answered. */
  readonly armed: boolean;
}

/**
 * `store` (tests only) whose next lineage read after {@link OvertakenLineage.arm} is overtaken
 * by a commit: once the store has answered revision r, `commit` makes revision r + 1, and the
 * answer is handed over only after `delivered()` reached r + 1. So it is with Redis, where the
 * answer comes on the command connection and the commit's notice on the subscriber
 * connection, and nothing orders the two.
 */
export function overtakenLineage(store: IBackendAdapter, commit: () => Promise<unknown>, delivered: () => number): OvertakenLineage {
  const readLineage = store.getLineage?.bind(store);
  if (readLineage === undefined) throw new TypeError("overtakenLineage: the store has no getLineage");
  let armed = false;
  const backend: IBackendAdapter = Object.create(store) as IBackendAdapter;
  backend.getLineage = async (docId: string): Promise<DocumentLineage> => {
    const lineage = await readLineage(docId);
    if (armed) {
      await commit();
      await waitUntil(() => delivered() > lineage.revision, "the notice of the overtaking commit", 10_000);
      armed = false;
    }
    return lineage;
  };
  return {
    backend,
    arm: () => {
      armed = true;
    },
    get armed() {
      return armed;
    },
  };
}
