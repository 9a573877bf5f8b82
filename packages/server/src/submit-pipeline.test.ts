// The submit pipeline's bounds and failures on MemoryBackend with group commit: a batch that
// never wins its race, and a commit call that fails.
import { describe, expect, it } from "vitest";
import type { CommitBatchResult, CommitResult, IBackendAdapter } from "./backend.js";
import { MemoryBackend } from "./memory-backend.js";
import { Server, type DuplicateResult, type SubmitResult } from "./server.js";

/** `backend` with `commit` and `commitBatch` replaced (the rest as it is). */
function withCommits(
  backend: MemoryBackend,
  commit: () => Promise<CommitResult>,
  commitBatch: () => Promise<CommitBatchResult>,
): IBackendAdapter {
  return new Proxy(backend, {
    get(target, property) {
      if (property === "commit") return commit;
      if (property === "commitBatch") return commitBatch;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function outcomes(submits: Promise<SubmitResult | DuplicateResult>[]): Promise<PromiseSettledResult<SubmitResult | DuplicateResult>[]> {
  return Promise.allSettled(submits);
}

describe("SubmitPipeline", () => {
  it("refuses (internal) a submit that loses every race, as part of batches and then alone, and each after it", async () => {
    const memory = new MemoryBackend({ groupCommit: true });
    await memory.createDocument("doc", "text", "");
    let commits = 0;
    let batches = 0;
    const store = withCommits(
      memory,
      () => {
        commits += 1;
        return Promise.resolve({ status: "conflict", current: 0 });
      },
      () => {
        batches += 1;
        return Promise.resolve({ committed: [], stop: { status: "conflict", current: 0 } });
      },
    );
    const server = new Server(store, { maxCommitAttempts: 3 });
    const results = await outcomes([0, 1, 2].map((k) => server.submitOperation("doc", [{ i: `${k}` }], 0, { clientId: `c${k}`, seq: 1 })));
    for (const result of results) {
      expect(result).toMatchObject({ status: "rejected", reason: { code: "internal", seq: 1 } });
      expect(((result as PromiseRejectedResult).reason as Error).message).toMatch(
        /after 3 attempts because other writers kept committing first/,
      );
    }
    // The first turn: 3 batch attempts, then 3 alone; the second: 3 + 3; the last, alone: 3.
    expect({ batches, commits }).toEqual({ batches: 6, commits: 9 });
    await expect(memory.getRecord("doc")).resolves.toMatchObject({ v: 0, data: "" });
  });

  it("rejects every submit of a commit call that failed with its error (they may have been committed)", async () => {
    const memory = new MemoryBackend({ groupCommit: true });
    await memory.createDocument("doc", "text", "");
    const failure = new Error("the store failed");
    const store = withCommits(
      memory,
      () => Promise.reject(failure),
      () => Promise.reject(failure),
    );
    const server = new Server(store);
    const results = await outcomes([0, 1, 2].map((k) => server.submitOperation("doc", [{ i: `${k}` }], 0, { clientId: `c${k}`, seq: 1 })));
    expect(results).toEqual([0, 1, 2].map(() => ({ status: "rejected", reason: failure })));
  });
});
