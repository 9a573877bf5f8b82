import { TextType } from "@open-ot/core";
import { documentChannel, type CommitNotice, type CommitRequest, type IBackendAdapter, type RestoreRequest } from "@open-ot/server";
import { afterEach, describe, expect, it } from "vitest";
import type { BackendContractFactory, BackendContractSetup } from "./backend-contract.js";
import { waitUntil } from "@open-ot/harness";

let counter = 0;
function freshDocId(label: string): string {
  counter += 1;
  return `lineage-${label}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

function append(doc: string, text: string, revision: number, clientId: string, seq: number, epoch?: string): CommitRequest {
  const op = [{ r: doc.length }, { i: text }];
  const request: CommitRequest = { revision, op, snapshot: TextType.apply(doc, op), clientId, seq };
  if (epoch !== undefined) request.epoch = epoch;
  return request;
}

/** Backends that implement the optional lineage methods, narrowed for the tests. */
type LineageBackend = IBackendAdapter & Required<Pick<IBackendAdapter, "getLineage" | "restoreDocument">>;

function lineageOf(backend: IBackendAdapter): LineageBackend {
  if (backend.getLineage === undefined || backend.restoreDocument === undefined) {
    throw new Error("this backend has no getLineage/restoreDocument: the lineage contract applies only to backends with epochs");
  }
  return backend as LineageBackend;
}

/**
 * What a backend with epochs (`getLineage`, `restoreDocument`, `CommitRequest.epoch`) must do
 * (docs/protocol.md, "Lost documents and restore"): epochs that name one life of a document,
 * commits refused across lives, and restores that are an atomic compare-and-set of which
 * exactly one of many concurrent ones wins. MemoryBackend and RedisAdapter both run it.
 *
 * @param name shown in the `describe` title.
 * @param factory makes a fresh setup for each test (the same as for {@link describeBackendContract}).
 */
export function describeLineageContract(name: string, factory: BackendContractFactory): void {
  describe(`Lineage contract: ${name}`, () => {
    const opened: BackendContractSetup[] = [];
    async function open(): Promise<{ backend: LineageBackend; setup: BackendContractSetup }> {
      const setup = await factory({});
      opened.push(setup);
      return { backend: lineageOf(setup.backend), setup };
    }
    afterEach(async () => {
      for (const setup of opened.splice(0)) await setup.cleanup();
    });

    function restoreOf(snapshot: string, revision: number, extra: Partial<RestoreRequest> = {}): RestoreRequest {
      return { type: "text", snapshot, revision, ...extra };
    }

    it("names a document's life with an epoch that commits keep and a new document does not share", async () => {
      const { backend } = await open();
      const docId = freshDocId("epoch");
      await expect(backend.getLineage(docId)).rejects.toMatchObject({ name: "DocumentNotFoundError" });
      await backend.createDocument(docId, "text", "");
      const first = await backend.getLineage(docId);
      expect(first).toEqual({ revision: 0, epoch: expect.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) });
      await expect(backend.commit(docId, append("", "a", 1, "c", 1, first.epoch))).resolves.toEqual({ status: "committed", revision: 1 });
      expect(await backend.getLineage(docId)).toEqual({ revision: 1, epoch: first.epoch });
      const other = freshDocId("epoch-other");
      await backend.createDocument(other, "text", "");
      expect((await backend.getLineage(other)).epoch).not.toBe(first.epoch);
    });

    it("refuses a commit that expects another epoch with DocumentReplacedError, writing nothing, before the duplicate check", async () => {
      const { backend } = await open();
      const docId = freshDocId("replaced");
      await backend.createDocument(docId, "text", "");
      const { epoch } = await backend.getLineage(docId);
      await backend.commit(docId, append("", "a", 1, "c", 1, epoch));
      await expect(backend.commit(docId, append("a", "b", 2, "c", 2, "another-epoch"))).rejects.toMatchObject({
        name: "DocumentReplacedError",
        docId,
        epoch,
      });
      // A duplicate of the wrong epoch is refused for the epoch, not dropped as a duplicate.
      await expect(backend.commit(docId, append("", "a", 1, "c", 1, "another-epoch"))).rejects.toMatchObject({
        name: "DocumentReplacedError",
      });
      expect(await backend.getRecord(docId)).toEqual({ type: "text", v: 1, data: "a" });
      expect(await backend.getLastSeq(docId, "c")).toBe(1);
    });

    it("restores a missing document from a copy at its revision, with no history before it, its seqs and a notice", async () => {
      const { backend, setup } = await open();
      const docId = freshDocId("missing");
      const notices: CommitNotice[] = [];
      const unsubscribe = await setup.pubsub.subscribe(documentChannel(docId), (notice) => notices.push(notice));
      const result = await backend.restoreDocument(docId, restoreOf("copy", 7, { fromEpoch: "old-life", seqs: { "@author": 4 } }));
      expect(result).toEqual({ status: "restored", epoch: expect.stringMatching(/^[A-Za-z0-9_-]{1,64}$/) });
      const epoch = (result as { epoch: string }).epoch;
      expect(epoch).not.toBe("old-life");
      expect(await backend.getLineage(docId)).toEqual({ revision: 7, epoch, restoredFrom: { epoch: "old-life", revision: 7 } });
      expect(await backend.getRecord(docId)).toEqual({ type: "text", v: 7, data: "copy" });
      expect(await backend.getRevision(docId)).toBe(7);
      expect(await backend.getOldestKeptRevision(docId)).toBe(8);
      expect(await backend.getOps(docId, 8)).toEqual([]);
      await expect(backend.getOps(docId, 7)).rejects.toMatchObject({ name: "HistoryTrimmedError" });
      expect(await backend.getLastSeq(docId, "@author")).toBe(4);
      await waitUntil(() => notices.length === 1, "the restore notice");
      expect(notices[0]).toMatchObject({ docId, revision: 7, op: null, restored: epoch });
      // Editing goes on from the copy's revision, in the new epoch only.
      await expect(backend.commit(docId, append("copy", "!", 8, "c", 1, epoch))).resolves.toEqual({ status: "committed", revision: 8 });
      await expect(backend.commit(docId, append("copy!", "?", 9, "c", 2, "old-life"))).rejects.toMatchObject({
        name: "DocumentReplacedError",
      });
      expect(await backend.getRecord(docId)).toEqual({ type: "text", v: 8, data: "copy!" });
      await unsubscribe();
    });

    it("restores an existing document only when it is in the expected epoch and behind the copy, keeping the higher seqs", async () => {
      const { backend } = await open();
      const docId = freshDocId("behind");
      await backend.createDocument(docId, "text", "");
      const { epoch } = await backend.getLineage(docId);
      await backend.commit(docId, append("", "a", 1, "writer", 5, epoch));
      await backend.commit(docId, append("a", "b", 2, "other", 2, epoch));
      // Without a condition, only a missing document is restored; another epoch, or a copy not ahead, is refused.
      await expect(backend.restoreDocument(docId, restoreOf("abcd", 4))).resolves.toEqual({ status: "refused" });
      await expect(backend.restoreDocument(docId, restoreOf("abcd", 4, { ifEpoch: "another" }))).resolves.toEqual({ status: "refused" });
      await expect(backend.restoreDocument(docId, restoreOf("ab", 2, { ifEpoch: epoch }))).resolves.toEqual({ status: "refused" });
      expect(await backend.getRecord(docId)).toEqual({ type: "text", v: 2, data: "ab" });
      const restored = await backend.restoreDocument(
        docId,
        restoreOf("abcd", 4, { ifEpoch: epoch, fromEpoch: epoch, seqs: { writer: 3, other: 4 } }),
      );
      expect(restored).toMatchObject({ status: "restored" });
      expect(await backend.getRecord(docId)).toEqual({ type: "text", v: 4, data: "abcd" });
      expect(await backend.getLastSeq(docId, "writer")).toBe(5);
      expect(await backend.getLastSeq(docId, "other")).toBe(4);
      // The old life's duplicate is refused for its epoch; the new life de-duplicates as before.
      const now = (restored as { epoch: string }).epoch;
      await expect(backend.commit(docId, append("abcd", "x", 5, "writer", 5, now))).resolves.toMatchObject({ status: "duplicate" });
    });

    it("lets exactly one of many concurrent restores win", async () => {
      const { backend } = await open();
      const docId = freshDocId("race");
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, k) => backend.restoreDocument(docId, restoreOf(`copy-${k}`, 10 + k))),
      );
      const winners = results.flatMap((r, k) => (r.status === "restored" ? [k] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      expect(await backend.getRecord(docId)).toEqual({ type: "text", v: 10 + winner, data: `copy-${winner}` });
    });

    it("checks the epoch before the client's principal, and keeps a client's principal across a restore in the same epoch", async () => {
      const { backend } = await open();
      const docId = freshDocId("epoch-principal");
      await backend.createDocument(docId, "text", "");
      const { epoch } = await backend.getLineage(docId);
      const as = (request: CommitRequest, principal: string): CommitRequest => Object.assign(request, { principal, maxSeqJump: 10 });
      await expect(backend.commit(docId, as(append("", "a", 1, "w", 1, epoch), "alice"))).resolves.toEqual({
        status: "committed",
        revision: 1,
      });
      // Another principal in another epoch: the epoch answers first.
      await expect(backend.commit(docId, as(append("a", "b", 2, "w", 2, "another-epoch"), "mallory"))).rejects.toMatchObject({
        name: "DocumentReplacedError",
      });
      await expect(backend.commit(docId, as(append("a", "b", 2, "w", 2, epoch), "mallory"))).resolves.toEqual({ status: "forbidden" });
      // The document lost its latest commits and is restored in the same epoch: the binding stays.
      const restored = await backend.restoreDocument(docId, restoreOf("abc", 3, { ifEpoch: epoch, fromEpoch: epoch }));
      expect(restored).toMatchObject({ status: "restored" });
      const now = (restored as { epoch: string }).epoch;
      await expect(backend.commit(docId, as(append("abc", "x", 4, "w", 2, now), "mallory"))).resolves.toEqual({ status: "forbidden" });
      await expect(backend.commit(docId, as(append("abc", "x", 4, "w", 20, now), "alice"))).resolves.toEqual({
        status: "seq_too_far",
        lastSeq: 1,
      });
      await expect(backend.commit(docId, as(append("abc", "x", 4, "w", 2, now), "alice"))).resolves.toEqual({
        status: "committed",
        revision: 4,
      });
      expect(await backend.getRecord(docId)).toEqual({ type: "text", v: 4, data: "abcx" });
    });

    it("commitBatch (optional): every op expects the batch's epoch, and each is checked for its principal and seq jump", async (ctx) => {
      const { backend } = await open();
      if (backend.commitBatch === undefined) ctx.skip();
      const docId = freshDocId("batch-epoch");
      await backend.createDocument(docId, "text", "");
      const { epoch } = await backend.getLineage(docId);
      const as = (request: CommitRequest, principal: string): CommitRequest => Object.assign(request, { principal, maxSeqJump: 10 });
      await expect(backend.commitBatch!(docId, [as(append("", "a", 1, "w", 1, "another-epoch"), "alice")])).rejects.toMatchObject({
        name: "DocumentReplacedError",
        epoch,
      });
      expect(await backend.getRevision(docId)).toBe(0);
      await expect(
        backend.commitBatch!(docId, [as(append("", "a", 1, "w", 1, epoch), "alice"), as(append("a", "b", 2, "v", 1, epoch), "bob")]),
      ).resolves.toEqual({ committed: [1, 2] });
      await expect(
        backend.commitBatch!(docId, [as(append("ab", "c", 3, "v", 2, epoch), "bob"), as(append("abc", "x", 4, "w", 2, epoch), "mallory")]),
      ).resolves.toEqual({ committed: [3], stop: { status: "forbidden" } });
      await expect(backend.commitBatch!(docId, [as(append("abc", "x", 4, "w", 12, epoch), "alice")])).resolves.toEqual({
        committed: [],
        stop: { status: "seq_too_far", lastSeq: 1 },
      });
      expect(await backend.getRecord(docId)).toEqual({ type: "text", v: 3, data: "abc" });
    });
  });
}
