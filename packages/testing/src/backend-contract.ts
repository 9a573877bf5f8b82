import { TextType } from "@open-ot/core";
import { documentChannel, type CommitNotice, type CommitRequest, type IBackendAdapter, type PubSub } from "@open-ot/server";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";

/** What {@link describeBackendContract} needs for each test. */
export interface BackendContractSetup {
  /** The backend under test. */
  backend: IBackendAdapter;
  /** A pub/sub on which the backend's commits can be observed (the backend itself, for Redis). */
  pubsub: PubSub;
  /** Close what the factory opened. */
  cleanup(): Promise<void>;
}

/** What a test asks of the backend it gets. */
export interface BackendContractOptions {
  /**
   * Keep at least this many of the newest ops per document and trim older ones when the
   * backend's policy allows. Left out: keep everything.
   */
  historyLimit?: number;
}

/** Makes a fresh backend for one test. */
export type BackendContractFactory = (options: BackendContractOptions) => Promise<BackendContractSetup>;

let uniqueCounter = 0;
/** A document id no other test (or earlier run against a shared server) uses. */
function freshDocId(label: string): string {
  uniqueCounter += 1;
  return `contract-${label}-${process.pid}-${Date.now().toString(36)}-${uniqueCounter}`;
}

/** An op appending `text` to a document of length `length`, and the commit request for it. */
function appendRequest(doc: string, text: string, revision: number, clientId?: string, seq?: number): CommitRequest {
  const op = [{ r: doc.length }, { i: text }];
  const request: CommitRequest = { revision, op, snapshot: TextType.apply(doc, op) };
  if (clientId !== undefined) request.clientId = clientId;
  if (seq !== undefined) request.seq = seq;
  return request;
}

/**
 * The behaviour every {@link IBackendAdapter} must show (MemoryBackend and RedisAdapter both
 * run it): documents and their records, legacy `saveOperation`/`getHistory`, the atomic
 * `commit` with its check order (existence, the client's principal, duplicate, seq jump, kept
 * history of the op's base when the backend `checksKeptHistory`, revision), publication of every commit
 * in revision order, `getOps` ranges, trimmed history, `getLastSeq`, not-found errors, and
 * concurrent commits racing for one revision. Nothing here depends on timing.
 *
 * @param name shown in the `describe` title.
 * @param factory makes a fresh setup for each test, honouring {@link BackendContractOptions}.
 */
export function describeBackendContract(name: string, factory: BackendContractFactory): void {
  describe(`Backend contract: ${name}`, () => {
    const opened: BackendContractSetup[] = [];
    async function open(options: BackendContractOptions = {}): Promise<BackendContractSetup> {
      const setup = await factory(options);
      opened.push(setup);
      return setup;
    }
    afterEach(async () => {
      for (const setup of opened.splice(0)) await setup.cleanup();
    });

    /** Commit `count` appends one after another; returns the document text. */
    async function commitAppends(backend: IBackendAdapter, docId: string, count: number, start = ""): Promise<string> {
      let doc = start;
      let revision = await backend.getRevision(docId);
      for (let k = 0; k < count; k++) {
        const request = appendRequest(doc, `<${revision + 1}>`, revision + 1, "appender", revision + 1);
        const result = await backend.commit(docId, request);
        expect(result).toEqual({ status: "committed", revision: revision + 1 });
        doc = request.snapshot as string;
        revision += 1;
      }
      return doc;
    }

    describe("documents", () => {
      it("creates a document at revision 0 with its type and snapshot", async () => {
        const { backend } = await open();
        const docId = freshDocId("create");
        await backend.createDocument(docId, "text", "héllo 😀");
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: 0, data: "héllo 😀" });
        await expect(backend.getRevision(docId)).resolves.toBe(0);
        await expect(backend.getOps(docId, 1)).resolves.toEqual([]);
        await expect(backend.getHistory(docId, 0)).resolves.toEqual([]);
        await expect(backend.getOldestKeptRevision(docId)).resolves.toBe(1);
      });

      it("refuses to create a document twice and keeps the first", async () => {
        const { backend } = await open();
        const docId = freshDocId("twice");
        await backend.createDocument(docId, "text", "first");
        await expect(backend.createDocument(docId, "text", "second")).rejects.toMatchObject({
          name: "DocumentExistsError",
          docId,
        });
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: 0, data: "first" });
      });

      it("rejects every read and write of an unknown document with DocumentNotFoundError", async () => {
        const { backend } = await open();
        const docId = freshDocId("missing");
        const notFound = { name: "DocumentNotFoundError", docId };
        await expect(backend.getRecord(docId)).rejects.toMatchObject(notFound);
        await expect(backend.getRevision(docId)).rejects.toMatchObject(notFound);
        await expect(backend.getOps(docId, 1)).rejects.toMatchObject(notFound);
        await expect(backend.getHistory(docId, 0)).rejects.toMatchObject(notFound);
        await expect(backend.getOldestKeptRevision(docId)).rejects.toMatchObject(notFound);
        await expect(backend.commit(docId, appendRequest("", "x", 1, "c", 1))).rejects.toMatchObject(notFound);
        await expect(backend.saveOperation(docId, [{ i: "x" }], 1)).rejects.toMatchObject(notFound);
        await expect(backend.getLastSeq(docId, "c")).resolves.toBeUndefined();
        // A failed commit must not have created anything.
        await expect(backend.getRecord(docId)).rejects.toMatchObject(notFound);
      });
    });

    describe("legacy saveOperation and getHistory", () => {
      it("applies the op with the document's type and appends it to the history", async () => {
        const { backend } = await open();
        const docId = freshDocId("legacy");
        await backend.createDocument(docId, "text", "abc");
        await backend.saveOperation(docId, [{ r: 3 }, { i: "d" }], 1);
        await backend.saveOperation(docId, [{ d: 1 }], 2);
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: 2, data: "bcd" });
        await expect(backend.getHistory(docId, 0)).resolves.toEqual([[{ r: 3 }, { i: "d" }], [{ d: 1 }]]);
        const ops = await backend.getOps(docId, 1);
        expect(ops.map((o) => o.revision)).toEqual([1, 2]);
        expect(ops[0]?.clientId).toBeUndefined();
      });

      it("refuses a revision other than current + 1 and changes nothing", async () => {
        const { backend } = await open();
        const docId = freshDocId("legacy-bad");
        await backend.createDocument(docId, "text", "abc");
        await expect(backend.saveOperation(docId, [{ i: "x" }], 2)).rejects.toBeInstanceOf(Error);
        await expect(backend.saveOperation(docId, [{ i: "x" }], 0)).rejects.toBeInstanceOf(Error);
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: 0, data: "abc" });
        await expect(backend.getHistory(docId, 0)).resolves.toEqual([]);
      });

      it("getHistory(start, end) returns the ops of revisions start+1 .. end (end exclusive as an index)", async () => {
        const { backend } = await open();
        const docId = freshDocId("history");
        await backend.createDocument(docId, "text", "");
        await commitAppends(backend, docId, 5);
        const all = (await backend.getOps(docId, 1)).map((o) => o.op);
        await expect(backend.getHistory(docId, 0)).resolves.toEqual(all);
        await expect(backend.getHistory(docId, 1, 3)).resolves.toEqual(all.slice(1, 3));
        await expect(backend.getHistory(docId, 4)).resolves.toEqual(all.slice(4));
        await expect(backend.getHistory(docId, 2, 99)).resolves.toEqual(all.slice(2));
        await expect(backend.getHistory(docId, 5)).resolves.toEqual([]);
      });

      it("a commit after saveOperation continues from its revision", async () => {
        const { backend } = await open();
        const docId = freshDocId("mixed");
        await backend.createDocument(docId, "text", "");
        await backend.saveOperation(docId, [{ i: "a" }], 1);
        await expect(backend.commit(docId, appendRequest("a", "b", 2, "c", 1))).resolves.toEqual({
          status: "committed",
          revision: 2,
        });
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: 2, data: "ab" });
      });
    });

    describe("commit", () => {
      it("appends the op with clientId and seq, stores the snapshot and records the last seq", async () => {
        const { backend } = await open();
        const docId = freshDocId("commit");
        await backend.createDocument(docId, "text", "");
        const first = appendRequest("", "one ", 1, "client-a", 1);
        const second = appendRequest("one ", "two", 2, "client-b", 5);
        await expect(backend.commit(docId, first)).resolves.toEqual({ status: "committed", revision: 1 });
        await expect(backend.commit(docId, second)).resolves.toEqual({ status: "committed", revision: 2 });
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: 2, data: "one two" });
        await expect(backend.getOps(docId, 1)).resolves.toEqual([
          { revision: 1, op: first.op, clientId: "client-a", seq: 1 },
          { revision: 2, op: second.op, clientId: "client-b", seq: 5 },
        ]);
        await expect(backend.getLastSeq(docId, "client-a")).resolves.toBe(1);
        await expect(backend.getLastSeq(docId, "client-b")).resolves.toBe(5);
        await expect(backend.getLastSeq(docId, "client-c")).resolves.toBeUndefined();
      });

      it("commits ops without seq (and without clientId) with no de-duplication", async () => {
        const { backend } = await open();
        const docId = freshDocId("no-seq");
        await backend.createDocument(docId, "text", "");
        await expect(backend.commit(docId, appendRequest("", "a", 1, "client-a"))).resolves.toEqual({
          status: "committed",
          revision: 1,
        });
        await expect(backend.commit(docId, appendRequest("a", "a", 2, "client-a"))).resolves.toEqual({
          status: "committed",
          revision: 2,
        });
        await expect(backend.commit(docId, appendRequest("aa", "b", 3))).resolves.toEqual({
          status: "committed",
          revision: 3,
        });
        const ops = await backend.getOps(docId, 1);
        expect(ops.map((o) => [o.revision, o.clientId, o.seq])).toEqual([
          [1, "client-a", undefined],
          [2, "client-a", undefined],
          [3, undefined, undefined],
        ]);
        await expect(backend.getLastSeq(docId, "client-a")).resolves.toBeUndefined();
      });

      it("answers conflict with the current revision for a stale or future revision, writing nothing", async () => {
        const { backend } = await open();
        const docId = freshDocId("cas");
        await backend.createDocument(docId, "text", "");
        await commitAppends(backend, docId, 2);
        const before = await backend.getRecord(docId);
        const stale = await backend.commit(docId, appendRequest("x", "stale", 2, "late", 1));
        expect(stale).toMatchObject({ status: "conflict", current: 2 });
        // A backend may send the ops committed since the request's base with the conflict: then all of them.
        if (stale.status === "conflict" && stale.ops !== undefined) expect(stale.ops).toEqual(await backend.getOps(docId, 2));
        const ahead = await backend.commit(docId, appendRequest("x", "ahead", 4, "early", 1));
        expect(ahead).toMatchObject({ status: "conflict", current: 2 });
        if (ahead.status === "conflict" && ahead.ops !== undefined) expect(ahead.ops).toEqual([]);
        await expect(backend.getRecord(docId)).resolves.toEqual(before);
        expect((await backend.getOps(docId, 1)).length).toBe(2);
        // A refused commit does not record its seq: the same (clientId, seq) can still commit.
        await expect(backend.getLastSeq(docId, "late")).resolves.toBeUndefined();
        await expect(backend.commit(docId, appendRequest(before.data as string, "now", 3, "late", 1))).resolves.toEqual({
          status: "committed",
          revision: 3,
        });
      });

      it("recognises a duplicate (clientId, seq) before looking at the revision, and writes nothing", async () => {
        const { backend } = await open();
        const docId = freshDocId("dup");
        await backend.createDocument(docId, "text", "");
        await expect(backend.commit(docId, appendRequest("", "a", 1, "client-a", 1))).resolves.toEqual({
          status: "committed",
          revision: 1,
        });
        await expect(backend.commit(docId, appendRequest("a", "b", 2, "client-a", 2))).resolves.toEqual({
          status: "committed",
          revision: 2,
        });
        await expect(backend.commit(docId, appendRequest("ab", "c", 3, "client-b", 1))).resolves.toEqual({
          status: "committed",
          revision: 3,
        });
        const before = await backend.getRecord(docId);

        // The same seq again, whether at the next revision, a stale one or a future one.
        for (const revision of [4, 2, 1, 9]) {
          await expect(backend.commit(docId, appendRequest("abc", "again", revision, "client-a", 2))).resolves.toEqual({
            status: "duplicate",
            revision: 2,
            lastSeq: 2,
          });
        }
        // An older seq is a duplicate too; its revision may no longer be known.
        const older = await backend.commit(docId, appendRequest("abc", "older", 4, "client-a", 1));
        expect(older.status).toBe("duplicate");
        if (older.status === "duplicate") {
          expect(older.lastSeq).toBe(2);
          if (older.revision !== undefined) expect(older.revision).toBe(1);
        }
        await expect(backend.getRecord(docId)).resolves.toEqual(before);
        expect((await backend.getOps(docId, 1)).map((o) => o.revision)).toEqual([1, 2, 3]);
        await expect(backend.getLastSeq(docId, "client-a")).resolves.toBe(2);
      });

      it("keeps seqs per document", async () => {
        const { backend } = await open();
        const docA = freshDocId("seq-a");
        const docB = freshDocId("seq-b");
        await backend.createDocument(docA, "text", "");
        await backend.createDocument(docB, "text", "");
        await backend.commit(docA, appendRequest("", "a", 1, "same-client", 3));
        await expect(backend.getLastSeq(docB, "same-client")).resolves.toBeUndefined();
        await expect(backend.commit(docB, appendRequest("", "b", 1, "same-client", 1))).resolves.toEqual({
          status: "committed",
          revision: 1,
        });
      });

      it("binds a client to the principal of its first commit with one; another principal, or none, is forbidden first and writes nothing", async () => {
        const { backend } = await open();
        const docId = freshDocId("principal");
        await backend.createDocument(docId, "text", "");
        const as = (request: CommitRequest, principal?: string): CommitRequest =>
          principal === undefined ? request : Object.assign(request, { principal });
        await expect(backend.commit(docId, as(appendRequest("", "a", 1, "victim", 1), "alice"))).resolves.toEqual({
          status: "committed",
          revision: 1,
        });
        const before = await backend.getRecord(docId);
        // Another principal: forbidden, before the duplicate check (a copy of seq 1 included) and
        // whatever the seq or revision.
        for (const [seq, revision] of [
          [1, 2],
          [2, 2],
          [9_007_199_254_740_991, 1],
        ] as const) {
          await expect(backend.commit(docId, as(appendRequest("a", "x", revision, "victim", seq), "mallory"))).resolves.toEqual({
            status: "forbidden",
          });
        }
        // No principal at all (an unauthenticated connection) is another principal too.
        await expect(backend.commit(docId, appendRequest("a", "x", 2, "victim", 2))).resolves.toEqual({ status: "forbidden" });
        await expect(backend.getRecord(docId)).resolves.toEqual(before);
        await expect(backend.getLastSeq(docId, "victim")).resolves.toBe(1);
        if (backend.getClientPrincipal !== undefined) {
          await expect(backend.getClientPrincipal(docId, "victim")).resolves.toBe("alice");
          await expect(backend.getClientPrincipal(docId, "nobody")).resolves.toBeUndefined();
        }
        // The owner goes on.
        await expect(backend.commit(docId, as(appendRequest("a", "b", 2, "victim", 2), "alice"))).resolves.toEqual({
          status: "committed",
          revision: 2,
        });
        // Bindings are per document, and a client first committed without a principal is bound by its first commit with one.
        const other = freshDocId("principal-other");
        await backend.createDocument(other, "text", "");
        await expect(backend.commit(other, appendRequest("", "a", 1, "victim", 1))).resolves.toEqual({ status: "committed", revision: 1 });
        await expect(backend.commit(other, as(appendRequest("a", "b", 2, "victim", 2), "mallory"))).resolves.toEqual({
          status: "committed",
          revision: 2,
        });
        await expect(backend.commit(other, as(appendRequest("ab", "c", 3, "victim", 3), "alice"))).resolves.toEqual({
          status: "forbidden",
        });
        if (backend.getClientPrincipal !== undefined) await expect(backend.getClientPrincipal(other, "victim")).resolves.toBe("mallory");
      });

      it("refuses a seq more than maxSeqJump above the client's last one, after the duplicate check, writing nothing", async () => {
        const { backend } = await open();
        const docId = freshDocId("seq-jump");
        await backend.createDocument(docId, "text", "");
        const limited = (request: CommitRequest): CommitRequest => Object.assign(request, { maxSeqJump: 10 });
        // A first commit may start anywhere.
        await expect(backend.commit(docId, limited(appendRequest("", "a", 1, "c", 100)))).resolves.toEqual({
          status: "committed",
          revision: 1,
        });
        await expect(backend.commit(docId, limited(appendRequest("a", "x", 2, "c", 111)))).resolves.toEqual({
          status: "seq_too_far",
          lastSeq: 100,
        });
        await expect(backend.commit(docId, limited(appendRequest("a", "x", 2, "c", 9_007_199_254_740_991)))).resolves.toEqual({
          status: "seq_too_far",
          lastSeq: 100,
        });
        // Duplicates are still recognised as such.
        await expect(backend.commit(docId, limited(appendRequest("a", "x", 2, "c", 100)))).resolves.toMatchObject({
          status: "duplicate",
          lastSeq: 100,
        });
        await expect(backend.getRevision(docId)).resolves.toBe(1);
        await expect(backend.getLastSeq(docId, "c")).resolves.toBe(100);
        await expect(backend.commit(docId, limited(appendRequest("a", "b", 2, "c", 110)))).resolves.toEqual({
          status: "committed",
          revision: 2,
        });
        // Without maxSeqJump there is no limit.
        await expect(backend.commit(docId, appendRequest("ab", "c", 3, "c", 5_000))).resolves.toEqual({ status: "committed", revision: 3 });
      });

      it("lets exactly one of many concurrent commits for the same revision win", async () => {
        const { backend } = await open();
        const docId = freshDocId("race");
        await backend.createDocument(docId, "text", "");
        const racers = 10;
        const results = await Promise.all(
          Array.from({ length: racers }, (_, k) => backend.commit(docId, appendRequest("", `racer-${k}`, 1, `racer-${k}`, 1))),
        );
        const winners = results.filter((r) => r.status === "committed");
        expect(winners).toEqual([{ status: "committed", revision: 1 }]);
        expect(results.filter((r) => r.status === "conflict")).toHaveLength(racers - 1);
        for (const r of results) if (r.status === "conflict") expect(r.current).toBe(1);
        const winner = results.findIndex((r) => r.status === "committed");
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: 1, data: `racer-${winner}` });
        for (let k = 0; k < racers; k++) {
          await expect(backend.getLastSeq(docId, `racer-${k}`)).resolves.toBe(k === winner ? 1 : undefined);
        }
      });

      it("commits one (clientId, seq) sent many times concurrently exactly once", async () => {
        const { backend } = await open();
        const docId = freshDocId("race-dup");
        await backend.createDocument(docId, "text", "");
        const copies = 10;
        const results = await Promise.all(
          Array.from({ length: copies }, () => backend.commit(docId, appendRequest("", "once", 1, "resender", 1))),
        );
        expect(results.filter((r) => r.status === "committed")).toHaveLength(1);
        expect(results.filter((r) => r.status === "duplicate")).toEqual(
          Array.from({ length: copies - 1 }, () => ({ status: "duplicate", revision: 1, lastSeq: 1 })),
        );
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: 1, data: "once" });
      });

      it("under racing writers that retry on conflict, commits every (clientId, seq) once and publishes revisions in order", async () => {
        const { backend, pubsub } = await open();
        const docId = freshDocId("writers");
        await backend.createDocument(docId, "text", "");
        const published: CommitNotice[] = [];
        const unsubscribe = await pubsub.subscribe(documentChannel(docId), (m) => published.push(m));
        const writers = 4;
        const opsEach = 8;
        let attempts = 0;
        const maxAttempts = writers * opsEach * writers * 4; // generous, but bounded
        async function writer(k: number): Promise<void> {
          for (let seq = 1; seq <= opsEach; seq++) {
            for (;;) {
              attempts += 1;
              if (attempts > maxAttempts) throw new Error("too many commit attempts: the backend is not making progress");
              const record = await backend.getRecord(docId);
              const result = await backend.commit(
                docId,
                appendRequest(record.data as string, `[${k}.${seq}]`, record.v + 1, `writer-${k}`, seq),
              );
              if (result.status === "committed") break;
              expect(result.status).toBe("conflict");
            }
          }
        }
        await Promise.all(Array.from({ length: writers }, (_, k) => writer(k)));
        const total = writers * opsEach;
        await expect(backend.getRevision(docId)).resolves.toBe(total);
        const ops = await backend.getOps(docId, 1);
        expect(ops.map((o) => o.revision)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect(new Set(ops.map((o) => `${o.clientId}/${o.seq}`)).size).toBe(total);
        const record = await backend.getRecord(docId);
        for (let k = 0; k < writers; k++) {
          for (let seq = 1; seq <= opsEach; seq++) expect((record.data as string).split(`[${k}.${seq}]`)).toHaveLength(2);
        }
        await waitUntil(() => published.length >= total, `${total} published commits`);
        expect(published.map((m) => m.revision)).toEqual(ops.map((o) => o.revision));
        expect(published).toEqual(ops.map((o) => ({ docId, ...o })));
        await unsubscribe();
      });
    });

    describe("publication", () => {
      it("publishes each commit on the document's channel with docId, revision, op, clientId and seq", async () => {
        const { backend, pubsub } = await open();
        const docId = freshDocId("publish");
        const other = freshDocId("publish-other");
        await backend.createDocument(docId, "text", "");
        await backend.createDocument(other, "text", "");
        const published: CommitNotice[] = [];
        const elsewhere: CommitNotice[] = [];
        const unsubscribe = await pubsub.subscribe(documentChannel(docId), (m) => published.push(m));
        const unsubscribeOther = await pubsub.subscribe(documentChannel(other), (m) => elsewhere.push(m));
        const first = appendRequest("", "x", 1, "client-a", 1);
        await backend.commit(docId, first);
        await backend.commit(docId, appendRequest("x", "y", 2));
        // Refused commits publish nothing.
        await backend.commit(docId, appendRequest("x", "late", 2, "client-b", 1));
        await backend.commit(docId, appendRequest("xy", "dup", 3, "client-a", 1));
        await backend.commit(other, appendRequest("", "z", 1, "client-a", 1));
        await waitUntil(() => published.length >= 2 && elsewhere.length >= 1, "the published commits");
        expect(published).toEqual([
          { docId, revision: 1, op: first.op, clientId: "client-a", seq: 1 },
          { docId, revision: 2, op: [{ r: 1 }, { i: "y" }] },
        ]);
        expect(elsewhere.map((m) => [m.docId, m.revision])).toEqual([[other, 1]]);
        // The refused commits after revision 2 must not show up later either: commit one more
        // and check that it is the next thing published.
        await backend.commit(docId, appendRequest("xy", "z", 3));
        await waitUntil(() => published.length >= 3, "the third commit");
        expect(published.map((m) => m.revision)).toEqual([1, 2, 3]);
        await unsubscribe();
        await unsubscribeOther();
      });
    });

    describe("getOps", () => {
      it("returns revisions from..to inclusive, clamped to 1 and to the current revision", async () => {
        const { backend } = await open();
        const docId = freshDocId("ranges");
        await backend.createDocument(docId, "text", "");
        await commitAppends(backend, docId, 6);
        const revisions = async (from: number, to?: number): Promise<number[]> =>
          (await backend.getOps(docId, from, to)).map((o) => o.revision);
        await expect(revisions(1)).resolves.toEqual([1, 2, 3, 4, 5, 6]);
        await expect(revisions(2, 4)).resolves.toEqual([2, 3, 4]);
        await expect(revisions(4, 4)).resolves.toEqual([4]);
        await expect(revisions(5, 100)).resolves.toEqual([5, 6]);
        await expect(revisions(0, 2)).resolves.toEqual([1, 2]);
        await expect(revisions(-3, 1)).resolves.toEqual([1]);
        await expect(revisions(7)).resolves.toEqual([]);
        await expect(revisions(4, 3)).resolves.toEqual([]);
        const ops = await backend.getOps(docId, 3, 3);
        expect(ops[0]).toMatchObject({ revision: 3, clientId: "appender", seq: 3 });
      });
    });

    describe("trimmed history", () => {
      it("keeps at least historyLimit newest ops, reports the oldest kept, and refuses older ranges with HistoryTrimmedError", async () => {
        const limit = 5;
        const { backend } = await open({ historyLimit: limit });
        const docId = freshDocId("trim");
        await backend.createDocument(docId, "text", "");
        const total = 20;
        const text = await commitAppends(backend, docId, total);
        const oldest = await backend.getOldestKeptRevision(docId);
        expect(oldest).toBeGreaterThanOrEqual(1);
        expect(oldest).toBeLessThanOrEqual(total - limit + 1);
        const kept = await backend.getOps(docId, oldest);
        expect(kept.map((o) => o.revision)).toEqual(Array.from({ length: total - oldest + 1 }, (_, i) => oldest + i));
        await expect(backend.getHistory(docId, oldest - 1)).resolves.toEqual(kept.map((o) => o.op));
        if (oldest > 1) {
          const trimmed = { name: "HistoryTrimmedError", docId };
          await expect(backend.getOps(docId, oldest - 1)).rejects.toMatchObject(trimmed);
          await expect(backend.getOps(docId, 1, oldest)).rejects.toMatchObject(trimmed);
          await expect(backend.getHistory(docId, 0)).rejects.toMatchObject(trimmed);
        }
        // Trimming never loses the document itself.
        await expect(backend.getRecord(docId)).resolves.toEqual({ type: "text", v: total, data: text });
        // Nor the seq records: a resent old op is still a duplicate.
        await expect(backend.commit(docId, appendRequest(text, "again", total + 1, "appender", 1))).resolves.toMatchObject({
          status: "duplicate",
          lastSeq: total,
        });
      });

      it("with checksKeptHistory, commit refuses a base older than the kept history, after the duplicate check and before the revision", async (ctx) => {
        const { backend } = await open({ historyLimit: 5 });
        if (backend.checksKeptHistory !== true) ctx.skip();
        const docId = freshDocId("trim-base");
        await backend.createDocument(docId, "text", "");
        // Enough commits that the backend trims, however often it stores a snapshot (at most every 100).
        const total = 120;
        const text = await commitAppends(backend, docId, total);
        const oldest = await backend.getOldestKeptRevision(docId);
        expect(oldest).toBeGreaterThan(2);
        const trimmed = { name: "HistoryTrimmedError", docId, oldestKept: oldest };
        const withBase = (request: CommitRequest, base: number): CommitRequest => Object.assign(request, { base });

        await expect(backend.commit(docId, withBase(appendRequest(text, "old", total + 1, "late", 1), oldest - 2))).rejects.toMatchObject(
          trimmed,
        );
        // Refused before the revision is compared: a stale revision gets the same answer.
        await expect(backend.commit(docId, withBase(appendRequest(text, "old", total, "late", 1), oldest - 2))).rejects.toMatchObject(
          trimmed,
        );
        // Nothing was written, not even the seq.
        await expect(backend.getRevision(docId)).resolves.toBe(total);
        await expect(backend.getLastSeq(docId, "late")).resolves.toBeUndefined();
        // A duplicate is recognised first, whatever its base.
        await expect(backend.commit(docId, withBase(appendRequest(text, "again", total + 1, "appender", 1), 0))).resolves.toMatchObject({
          status: "duplicate",
          lastSeq: total,
        });
        // A base whose following ops are all kept passes to the revision check.
        await expect(backend.commit(docId, withBase(appendRequest(text, "stale", total, "late", 1), oldest - 1))).resolves.toMatchObject({
          status: "conflict",
          current: total,
        });
        await expect(backend.commit(docId, withBase(appendRequest(text, "new", total + 1, "late", 1), oldest - 1))).resolves.toEqual({
          status: "committed",
          revision: total + 1,
        });
      });

      it("reports current + 1 as the oldest kept revision of a document with no ops", async () => {
        const { backend } = await open({ historyLimit: 3 });
        const docId = freshDocId("trim-empty");
        await backend.createDocument(docId, "text", "seed");
        await expect(backend.getOldestKeptRevision(docId)).resolves.toBe(1);
      });
    });

    describe("commitBatch (optional)", () => {
      /** Appends `texts` to `doc` as consecutive requests from `revision` on, by `clientId` with seqs from `seq`. */
      function appends(doc: string, texts: string[], revision: number, clientId: string, seq: number): CommitRequest[] {
        const requests: CommitRequest[] = [];
        for (const [k, text] of texts.entries()) {
          const request = appendRequest(doc, text, revision + k, clientId, seq + k);
          requests.push(request);
          doc = request.snapshot as string;
        }
        return requests;
      }

      it("commits every request as consecutive revisions, records each seq and publishes each op in revision order", async (ctx) => {
        const { backend, pubsub } = await open();
        if (backend.commitBatch === undefined) ctx.skip();
        const docId = freshDocId("batch-all");
        await backend.createDocument(docId, "text", "");
        const published: CommitNotice[] = [];
        const unsubscribe = await pubsub.subscribe(documentChannel(docId), (m) => published.push(m));
        await commitAppends(backend, docId, 1);
        const requests = [...appends("<1>", ["a", "b"], 2, "x", 1), ...appends("<1>ab", ["c"], 4, "y", 7)];
        await expect(backend.commitBatch!(docId, requests)).resolves.toEqual({ committed: [2, 3, 4] });
        const record = await backend.getRecord(docId);
        expect(record.v).toBe(4);
        expect(record.data).toBe("<1>abc");
        const ops = await backend.getOps(docId, 2);
        expect(ops).toEqual(requests.map((r) => ({ revision: r.revision, op: r.op, clientId: r.clientId, seq: r.seq })));
        await expect(backend.getLastSeq(docId, "x")).resolves.toBe(2);
        await expect(backend.getLastSeq(docId, "y")).resolves.toBe(7);
        await waitUntil(() => published.length >= 4, "4 published commits");
        expect(published.map((m) => m.revision)).toEqual([1, 2, 3, 4]);
        expect(published.slice(1).map((m) => m.op)).toEqual(requests.map((r) => r.op));
        await unsubscribe();
      });

      it("stops at a duplicate in the middle: the ones before it are committed, nothing after it is tried", async (ctx) => {
        const { backend } = await open();
        if (backend.commitBatch === undefined) ctx.skip();
        const docId = freshDocId("batch-dup");
        await backend.createDocument(docId, "text", "");
        const first = appends("", ["a"], 1, "x", 1);
        await expect(backend.commit(docId, first[0]!)).resolves.toEqual({ status: "committed", revision: 1 });
        const requests = [
          ...appends("a", ["b"], 2, "y", 1),
          appendRequest("ab", "again", 3, "x", 1), // x's seq 1 is committed already
          appendRequest("abagain", "c", 4, "z", 1),
        ];
        await expect(backend.commitBatch!(docId, requests)).resolves.toEqual({
          committed: [2],
          stop: { status: "duplicate", revision: 1, lastSeq: 1 },
        });
        await expect(backend.getRecord(docId)).resolves.toMatchObject({ v: 2, data: "ab" });
        await expect(backend.getLastSeq(docId, "z")).resolves.toBeUndefined();
        // Two of one client in one batch: the second must have a higher seq, checked against the first.
        const same = [appendRequest("ab", "c", 3, "w", 5), appendRequest("abc", "d", 4, "w", 5)];
        await expect(backend.commitBatch!(docId, same)).resolves.toEqual({
          committed: [3],
          stop: { status: "duplicate", revision: 3, lastSeq: 5 },
        });
        await expect(backend.getRecord(docId)).resolves.toMatchObject({ v: 3, data: "abc" });
      });

      it("checks each request's principal and seq jump: stops at a forbidden one and at one that jumps too far", async (ctx) => {
        const { backend } = await open();
        if (backend.commitBatch === undefined) ctx.skip();
        const docId = freshDocId("batch-principal");
        await backend.createDocument(docId, "text", "");
        const owned = Object.assign(appendRequest("", "a", 1, "victim", 1), { principal: "alice", maxSeqJump: 10 });
        await expect(backend.commit(docId, owned)).resolves.toEqual({ status: "committed", revision: 1 });
        const mine = Object.assign(appendRequest("a", "b", 2, "other", 1), { principal: "bob", maxSeqJump: 10 });
        const stolen = Object.assign(appendRequest("ab", "x", 3, "victim", 2), { principal: "mallory", maxSeqJump: 10 });
        await expect(backend.commitBatch!(docId, [mine, stolen])).resolves.toEqual({ committed: [2], stop: { status: "forbidden" } });
        const jump = Object.assign(appendRequest("ab", "x", 3, "victim", 12), { principal: "alice", maxSeqJump: 10 });
        await expect(backend.commitBatch!(docId, [jump])).resolves.toEqual({ committed: [], stop: { status: "seq_too_far", lastSeq: 1 } });
        await expect(backend.getRecord(docId)).resolves.toMatchObject({ v: 2, data: "ab" });
        await expect(backend.getLastSeq(docId, "victim")).resolves.toBe(1);
      });

      it("stops at a conflict on the first request, writing nothing, with the missed ops when given", async (ctx) => {
        const { backend } = await open();
        if (backend.commitBatch === undefined) ctx.skip();
        const docId = freshDocId("batch-conflict");
        await backend.createDocument(docId, "text", "");
        const text = await commitAppends(backend, docId, 2);
        const stale = appends("<1>", ["a", "b"], 2, "x", 1);
        const result = await backend.commitBatch!(docId, stale);
        expect(result.committed).toEqual([]);
        expect(result.stop).toMatchObject({ status: "conflict", current: 2 });
        if (result.stop?.status === "conflict" && result.stop.ops !== undefined) {
          expect(result.stop.ops.map((o) => o.revision)).toEqual([2]);
        }
        await expect(backend.getRecord(docId)).resolves.toMatchObject({ v: 2, data: text });
        await expect(backend.getLastSeq(docId, "x")).resolves.toBeUndefined();
        // A missing document rejects as commit does.
        await expect(backend.commitBatch!(freshDocId("batch-missing"), stale)).rejects.toMatchObject({ name: "DocumentNotFoundError" });
      });

      it("with checksKeptHistory, stops at a request whose base is older than the kept history", async (ctx) => {
        const { backend } = await open({ historyLimit: 5 });
        if (backend.commitBatch === undefined || backend.checksKeptHistory !== true) ctx.skip();
        const docId = freshDocId("batch-trim");
        await backend.createDocument(docId, "text", "");
        const total = 120;
        const text = await commitAppends(backend, docId, total);
        const oldest = await backend.getOldestKeptRevision(docId);
        expect(oldest).toBeGreaterThan(2);
        const requests = appends(text, ["a", "b", "c"], total + 1, "x", 1);
        requests[0]!.base = total;
        requests[1]!.base = oldest - 2; // trimmed
        requests[2]!.base = total;
        const result = await backend.commitBatch!(docId, requests);
        expect(result).toMatchObject({ committed: [total + 1], stop: { status: "trimmed" } });
        // The first commit may have trimmed further.
        expect(result.stop?.status === "trimmed" ? result.stop.oldestKept : 0).toBeGreaterThanOrEqual(oldest);
        await expect(backend.getRecord(docId)).resolves.toMatchObject({ v: total + 1, data: `${text}a` });
        await expect(backend.getLastSeq(docId, "x")).resolves.toBe(1);
      });
    });
  });
}
