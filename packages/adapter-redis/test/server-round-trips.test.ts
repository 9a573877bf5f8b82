// Server + RedisAdapter: what a submit asks Redis. The commit script de-duplicates, checks the
// op's base against the kept history and returns the ops of a lost race, so a submit that
// commits costs one script run (two after a conflict) and no other reads; refusals still follow
// the protocol's check order (a duplicate is dropped, whatever its base or content).
import { describe, expect, it } from "vitest";
import { Server, type CommitRequest, type CommitResult, type CommittedOp } from "@open-ot/server";
import { RedisAdapter, type RedisAdapterOptions } from "../src/index.js";
import { append, redisPerTest } from "./helpers.js";

/** A RedisAdapter that counts the IBackendAdapter calls made on it. */
class CountingAdapter extends RedisAdapter {
  readonly calls = new Map<string, number>();

  count(name: string): number {
    return this.calls.get(name) ?? 0;
  }

  private note(name: string): void {
    this.calls.set(name, this.count(name) + 1);
  }

  override commit(docId: string, request: CommitRequest): Promise<CommitResult> {
    this.note("commit");
    return super.commit(docId, request);
  }

  override getOps(docId: string, from: number, to?: number): Promise<CommittedOp[]> {
    this.note("getOps");
    return super.getOps(docId, from, to);
  }

  override getRevision(docId: string): Promise<number> {
    this.note("getRevision");
    return super.getRevision(docId);
  }

  override getLastSeq(docId: string, clientId: string): Promise<number | undefined> {
    this.note("getLastSeq");
    return super.getLastSeq(docId, clientId);
  }

  override getOldestKeptRevision(docId: string): Promise<number> {
    this.note("getOldestKeptRevision");
    return super.getOldestKeptRevision(docId);
  }
}

const { adapter } = redisPerTest((url, options) => new CountingAdapter(url, options));

/** Every call counted so far, by name (names never called are left out). */
function calls(backend: CountingAdapter): Record<string, number> {
  return Object.fromEntries(backend.calls);
}

/**
 * A document whose history keeps only the newest few ops: `count` commits of one letter each
 * through `server` (snapshots every 2 revisions, so trimming is not held back by the snapshot).
 */
async function trimmedDocument(server: Server, count: number): Promise<void> {
  await server.createDocument("doc", "text", "");
  await server.submitOperation("doc", [{ i: "a" }], 0, { clientId: "first", seq: 1 });
  for (let r = 1; r < count; r++) await server.submitOperation("doc", [{ r }, { i: "z" }], r, { clientId: "filler", seq: r });
}

const trimming: RedisAdapterOptions = { historyLimit: 3, snapshotEvery: 2 };

describe("RedisAdapter conflicts", () => {
  it("carry the ops committed since the request's base when they are kept, and none otherwise", async () => {
    const backend = adapter(trimming);
    await backend.createDocument("doc", "text", "");
    let text = "";
    for (let r = 1; r <= 10; r++) {
      const request = append(text, `${r};`, r, "writer", r);
      expect(await backend.commit("doc", request)).toEqual({ status: "committed", revision: r });
      text = request.snapshot as string;
    }
    const oldest = await backend.getOldestKeptRevision("doc");
    expect(oldest).toBeGreaterThan(2);
    // Based on a kept revision: the ops after it, as getOps reads them.
    expect(await backend.commit("doc", append("", "late", oldest + 1, "late", 1))).toEqual({
      status: "conflict",
      current: 10,
      ops: await backend.getOps("doc", oldest + 1),
    });
    // Not all of them kept, or the document not ahead: the revision alone.
    expect(await backend.commit("doc", append("", "late", oldest - 1, "late", 1))).toEqual({ status: "conflict", current: 10 });
    expect(await backend.commit("doc", append("", "early", 12, "early", 1))).toEqual({ status: "conflict", current: 10 });
  });
});

describe("Server on RedisAdapter: round trips of a submit", () => {
  it("commits an op from an instance whose cache is behind after one conflict, with no reads in between", async () => {
    const a = adapter();
    const b = adapter();
    const first = new Server(a);
    const second = new Server(b);
    await first.createDocument("doc", "text", "");
    await second.getDocument("doc");
    await first.submitOperation("doc", [{ i: "first" }], 0, { clientId: "a", seq: 1 });
    b.calls.clear();
    // `second` still believes the document is at 0: its commit conflicts, the conflict brings
    // the winner's op, and the transformed op commits.
    await expect(second.submitOperation("doc", [{ i: "second" }], 0, { clientId: "b", seq: 1 })).resolves.toEqual({
      op: [{ r: 5 }, { i: "second" }],
      revision: 2,
    });
    expect(calls(b)).toEqual({ commit: 2 });
    // The conflict's ops are now in its cache: an op based on revision 1 is transformed from
    // there, with the kept-history check left to the commit.
    b.calls.clear();
    await expect(second.submitOperation("doc", [{ r: 5 }, { i: "!" }], 1, { clientId: "b", seq: 2 })).resolves.toEqual({
      op: [{ r: 11 }, { i: "!" }],
      revision: 3,
    });
    expect(calls(b)).toEqual({ commit: 1 });
    await expect(b.getRecord("doc")).resolves.toMatchObject({ v: 3, data: "firstsecond!" });
  });

  it("drops a resend of a committed (clientId, seq) based on a trimmed revision as a duplicate, whatever its content", async () => {
    const backend = adapter(trimming);
    const server = new Server(backend);
    await trimmedDocument(server, 10);
    expect(await backend.getOldestKeptRevision("doc")).toBeGreaterThan(2);
    const before = await backend.getRecord("doc");
    // The cache still holds every op after revision 0; the backend does not.
    await expect(server.submitOperation("doc", [{ i: "a" }], 0, { clientId: "first", seq: 1 })).resolves.toEqual({
      duplicate: true,
      revision: 1,
      lastSeq: 1,
    });
    await expect(server.submitOperation("doc", [{ r: 99 }, { i: "a" }], 0, { clientId: "first", seq: 1 })).resolves.toMatchObject({
      duplicate: true,
      lastSeq: 1,
    });
    // A server with nothing cached reads the ops, finds them trimmed, and still answers duplicate.
    const fresh = new Server(adapter(trimming));
    await expect(fresh.submitOperation("doc", [{ i: "a" }], 0, { clientId: "first", seq: 1 })).resolves.toMatchObject({
      duplicate: true,
      lastSeq: 1,
    });
    await expect(backend.getRecord("doc")).resolves.toEqual(before);
  });

  it("refuses an op based on a revision older than the kept history with resync_required, though the server's cache has the ops", async () => {
    const backend = adapter(trimming);
    const server = new Server(backend);
    await trimmedDocument(server, 10);
    const oldest = await backend.getOldestKeptRevision("doc");
    expect(oldest).toBeGreaterThan(2);
    const before = await backend.getRecord("doc");
    backend.calls.clear();
    await expect(server.submitOperation("doc", [{ i: "late" }], oldest - 2, { clientId: "late", seq: 1 })).rejects.toMatchObject({
      name: "OTError",
      code: "resync_required",
      seq: 1,
    });
    // Checked inside the commit; the refusal looked for a duplicate first (none).
    expect(calls(backend)).toEqual({ commit: 1, getLastSeq: 1 });
    await expect(backend.getRecord("doc")).resolves.toEqual(before);
    await expect(backend.getLastSeq("doc", "late")).resolves.toBeUndefined();
    // Based on the oldest kept revision's predecessor, it commits.
    await expect(server.submitOperation("doc", [{ i: "ok" }], oldest - 1, { clientId: "late", seq: 1 })).resolves.toMatchObject({
      revision: 11,
    });
  });

  it("refuses an op whose base another instance trimmed while this server's cache was behind", async () => {
    const backend = adapter(trimming);
    const server = new Server(backend);
    await server.createDocument("doc", "text", "");
    await server.submitOperation("doc", [{ i: "a" }], 0);
    await server.submitOperation("doc", [{ r: 1 }, { i: "b" }], 1);
    // Another instance commits until revision 2 is trimmed but the ops after it are kept; this
    // server's cache stays at 2 and still holds the op after revision 1. Its commit conflicts,
    // and the ops it missed would let it transform and commit: the commit must look at the base.
    const other = new Server(adapter(trimming));
    for (let r = 2; r < 5; r++) await other.submitOperation("doc", [{ i: "z" }], r);
    expect(await backend.getOldestKeptRevision("doc")).toBe(3);
    await expect(server.submitOperation("doc", [{ i: "late" }], 1, { clientId: "late", seq: 1 })).rejects.toMatchObject({
      code: "resync_required",
    });
    await expect(backend.getRevision("doc")).resolves.toBe(5);
    // Based on revision 2 (whose following ops are kept), it is transformed and commits.
    await expect(server.submitOperation("doc", [{ i: "ok" }], 2, { clientId: "late", seq: 1 })).resolves.toMatchObject({ revision: 6 });
  });

  it("reads no seq for an op that commits, and looks for a duplicate before refusing an invalid op", async () => {
    const backend = adapter();
    const server = new Server(backend);
    await server.createDocument("doc", "text", "abc");
    await server.submitOperation("doc", [{ r: 3 }, { i: "d" }], 0, { clientId: "c", seq: 1 });
    expect(backend.count("getLastSeq")).toBe(0);
    // A resend whose op no longer fits (it reaches past the end as sent): still a duplicate.
    await expect(server.submitOperation("doc", [{ r: 10 }, { i: "d" }], 1, { clientId: "c", seq: 1 })).resolves.toEqual({
      duplicate: true,
      revision: 1,
      lastSeq: 1,
    });
    // A new (clientId, seq) with the same op is refused.
    await expect(server.submitOperation("doc", [{ r: 10 }, { i: "d" }], 1, { clientId: "c", seq: 2 })).rejects.toMatchObject({
      code: "invalid_op",
      seq: 2,
    });
    expect(backend.count("getLastSeq")).toBe(2);
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 1, data: "abcd" });
  });
});
