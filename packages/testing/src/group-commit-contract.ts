import { TextType, type TextOp } from "@open-ot/core";
import {
  Server,
  type CommitBatchResult,
  type CommitRequest,
  type DuplicateResult,
  type IBackendAdapter,
  type OTError,
  type SubmitResult,
} from "@open-ot/server";
import { afterEach, describe, expect, it } from "vitest";
import type { BackendContractFactory, BackendContractOptions, BackendContractSetup } from "./backend-contract.js";

/** A backend as the suite sees it: its commit calls counted, with a hook before each batch. */
interface CountedBackend {
  readonly backend: IBackendAdapter;
  /** How many `commit` calls. */
  commits: number;
  /** The size of each `commitBatch` call, in order. */
  batches: number[];
  /** Run before each `commitBatch` call reaches the backend (a test makes another server commit first). */
  beforeBatch: ((requests: CommitRequest[]) => Promise<void>) | undefined;
}

/** `backend` with its `commit` and `commitBatch` calls counted; everything else as it is. */
function counted(backend: IBackendAdapter): CountedBackend {
  const counts: CountedBackend = { backend, commits: 0, batches: [], beforeBatch: undefined };
  const proxy = new Proxy(backend, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === "commit") {
        return (docId: string, request: CommitRequest) => {
          counts.commits += 1;
          return target.commit(docId, request);
        };
      }
      if (property === "commitBatch" && target.commitBatch !== undefined) {
        const commitBatch = target.commitBatch.bind(target);
        return async (docId: string, requests: CommitRequest[]): Promise<CommitBatchResult> => {
          counts.batches.push(requests.length);
          await counts.beforeBatch?.(requests);
          return await commitBatch(docId, requests);
        };
      }
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return Object.assign(counts, { backend: proxy });
}

/** How a submit ended: its result, or what it was rejected with. */
export type SubmitOutcome = { ok: SubmitResult | DuplicateResult } | { error: unknown };

/** The outcome of a submit, without rejecting (to await many and check each). */
export async function outcomeOf(promise: Promise<SubmitResult | DuplicateResult>): Promise<SubmitOutcome> {
  try {
    return { ok: await promise };
  } catch (error) {
    return { error };
  }
}

/**
 * Group commit (docs/decisions/007, 008): a `Server` on a backend with `commitBatch` and
 * `checksKeptHistory` commits the submits queued on one document together, each op once and in
 * queue order, with the refusals and de-duplication of single submits. MemoryBackend and
 * RedisAdapter both run it; a backend without batches skips it.
 *
 * @param name shown in the `describe` title.
 * @param factory makes a fresh setup for each test (the same as for `describeBackendContract`).
 */
export function describeGroupCommitContract(name: string, factory: BackendContractFactory): void {
  describe(`Group commit contract: ${name}`, () => {
    const opened: BackendContractSetup[] = [];
    /** A fresh backend, counted; the test is skipped when it cannot commit batches. */
    async function open(skip: () => void, options: BackendContractOptions = {}): Promise<CountedBackend> {
      const setup = await factory(options);
      opened.push(setup);
      if (setup.backend.commitBatch === undefined || setup.backend.checksKeptHistory !== true) skip();
      return counted(setup.backend);
    }
    afterEach(async () => {
      for (const setup of opened.splice(0)) await setup.cleanup();
    });

    it("commits submits queued on one document in fewer calls than submits, each op once and in queue order", async (ctx) => {
      const store = await open(() => ctx.skip());
      const server = new Server(store.backend);
      await server.createDocument("doc", "text", "");
      const count = 30;
      const results = await Promise.all(
        Array.from({ length: count }, (_, k) => server.submitOperation("doc", [{ i: `<${k}>` }], 0, { clientId: `c${k}`, seq: 1 })),
      );
      expect(store.batches.length).toBeGreaterThan(0);
      expect(store.commits + store.batches.length).toBeLessThan(count);
      expect(results.map((r) => r.revision)).toEqual(Array.from({ length: count }, (_, k) => k + 1));
      // Every op was transformed over the earlier ones of its batch; at a tie the op queued first comes first.
      let text = "";
      for (const result of results) text = TextType.apply(text, (result as SubmitResult<TextOp>).op);
      expect(text).toBe(Array.from({ length: count }, (_, k) => `<${k}>`).join(""));
      await expect(store.backend.getRecord("doc")).resolves.toMatchObject({ v: count, data: text });
    });

    it("keeps each refusal, and a duplicate's precedence over it, for one submit of a batch without touching the others", async (ctx) => {
      const store = await open(() => ctx.skip());
      const server = new Server(store.backend);
      await server.createDocument("doc", "text", "ab");
      await server.submitOperation("doc", [{ i: "x" }], 0, { clientId: "old", seq: 1 });
      const outcomes = await Promise.all([
        outcomeOf(server.submitOperation("doc", [{ i: "1" }], 1, { clientId: "a", seq: 1 })),
        outcomeOf(server.submitOperation("doc", [{ r: 50 }, { i: "bad" }], 1, { clientId: "b", seq: 1 })),
        outcomeOf(server.submitOperation("doc", [{ r: 50 }, { i: "resend" }], 0, { clientId: "old", seq: 1 })),
        outcomeOf(server.submitOperation("doc", [{ i: "2" }], 9, { clientId: "c", seq: 1 })),
        outcomeOf(server.submitOperation("doc", [{ i: "3" }], 1, { clientId: "a", seq: 2 })),
        outcomeOf(server.submitOperation("doc", [{ i: "4" }], 1, { clientId: "a", seq: 2 })),
        outcomeOf(server.submitOperation("doc", [{ i: "5" }], 0, { clientId: "d", seq: 1 })),
      ]);
      expect(outcomes[0]).toEqual({ ok: { op: [{ i: "1" }], revision: 2 } });
      expect(outcomes[1]).toMatchObject({ error: { code: "invalid_op", seq: 1 } });
      // Invalid as sent, but a resend of a committed op: a duplicate, which comes first.
      expect(outcomes[2]).toEqual({ ok: { duplicate: true, lastSeq: 1, revision: 1 } });
      expect(outcomes[3]).toMatchObject({ error: { code: "bad_revision", seq: 1 } });
      expect((outcomes[3] as { error: OTError }).error.message).toBe('revision 9 is ahead of document "doc", which is at revision 2');
      expect(outcomes[4]).toEqual({ ok: { op: [{ r: 1 }, { i: "3" }], revision: 3 } });
      expect(outcomes[5]).toEqual({ ok: { duplicate: true, lastSeq: 2, revision: 3 } });
      expect(outcomes[6]).toEqual({ ok: { op: [{ r: 3 }, { i: "5" }], revision: 4 } });
      await expect(store.backend.getRecord("doc")).resolves.toMatchObject({ v: 4, data: "13x5ab" });
    });

    it("refuses stale submits on the batch's reply after their duplicate check, and commits the rest", async (ctx) => {
      const store = await open(() => ctx.skip(), { historyLimit: 5 });
      const server = new Server(store.backend);
      await server.createDocument("doc", "text", "");
      for (let k = 0; k < 10; k++) await server.submitOperation("doc", [{ i: "h" }], k, { clientId: "h", seq: k + 1 });
      const oldest = await store.backend.getOldestKeptRevision("doc");
      expect(oldest).toBeGreaterThan(3);
      store.commits = 0;
      store.batches = [];
      const outcomes = await Promise.all([
        // A resend of revision 1's op, based on 0: a duplicate, which comes before kept history.
        outcomeOf(server.submitOperation("doc", [{ i: "dup" }], 0, { clientId: "h", seq: 1 })),
        // Based on revisions whose next ops are no longer kept.
        outcomeOf(server.submitOperation("doc", [{ i: "old" }], 1, { clientId: "s", seq: 1 })),
        outcomeOf(server.submitOperation("doc", [{ i: "old2" }], 2, { clientId: "t", seq: 1 })),
        outcomeOf(server.submitOperation("doc", [{ i: "A" }], 10, { clientId: "a", seq: 1 })),
        outcomeOf(server.submitOperation("doc", [{ i: "B" }], 10, { clientId: "b", seq: 1 })),
      ]);
      expect(outcomes[0]).toMatchObject({ ok: { duplicate: true, lastSeq: 10 } });
      for (const [i, base] of [
        [1, 1],
        [2, 2],
      ] as const) {
        expect(outcomes[i]).toMatchObject({ error: { code: "resync_required", seq: 1 } });
        expect((outcomes[i] as { error: OTError }).error.message).toBe(
          `revision ${base} is older than the history kept for document "doc" (oldest kept: ${oldest}): join again`,
        );
      }
      expect(outcomes[3]).toEqual({ ok: { op: [{ i: "A" }], revision: 11 } });
      expect(outcomes[4]).toEqual({ ok: { op: [{ r: 1 }, { i: "B" }], revision: 12 } });
      await expect(store.backend.getRecord("doc")).resolves.toMatchObject({ v: 12, data: "ABhhhhhhhhhh" });
      // The batch of five stopped at the duplicate, which its head then sent alone; the stale
      // ones were refused on batch replies, without a call of their own; A and B came last.
      expect(store.commits).toBe(1);
      expect(store.batches).toEqual([5, 4, 3, 2]);
    });

    it("a batch that lost the race to another server is caught up and committed again as a batch", async (ctx) => {
      const store = await open(() => ctx.skip());
      const serverA = new Server(store.backend);
      const serverB = new Server(store.backend);
      await serverB.createDocument("doc", "text", "");
      await serverA.getDocument("doc");
      const winners = 3;
      store.beforeBatch = async () => {
        if (store.batches.length > 1) return;
        for (let k = 0; k < winners; k++) await serverB.submitOperation("doc", [{ i: "w" }], k, { clientId: "b", seq: k + 1 });
      };
      const queued = 10;
      const results = (await Promise.all(
        Array.from({ length: queued }, (_, k) => serverA.submitOperation("doc", [{ i: `<${k}>` }], 0, { clientId: `a${k}`, seq: 1 })),
      )) as SubmitResult<TextOp>[];
      // Lost once, then committed whole: the same batch twice.
      expect(store.batches).toEqual([queued, queued]);
      expect(results.map((r) => r.revision)).toEqual(Array.from({ length: queued }, (_, k) => winners + k + 1));
      // At a tie what was committed first comes first: the winners, then the batch in queue order.
      const expected = `${"w".repeat(winners)}${Array.from({ length: queued }, (_, k) => `<${k}>`).join("")}`;
      await expect(store.backend.getRecord("doc")).resolves.toMatchObject({ v: winners + queued, data: expected });
      await expect(serverA.getDocument("doc")).resolves.toMatchObject({ revision: winners + queued, snapshot: expected });
    });
  });
}
