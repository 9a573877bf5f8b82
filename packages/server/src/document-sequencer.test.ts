import { TextType } from "@open-ot/core";
import { afterEach, describe, expect, it } from "vitest";
import { HeldPubSub } from "../test/held-pub-sub.js";
import { overtakenLineage } from "../test/overtaken-lineage.js";
import { settle, waitUntil } from "@open-ot/harness";
import { documentChannel, type CommitNotice, type IBackendAdapter } from "./backend.js";
import { DocumentSequencer, type DocumentSequencerOptions } from "./document-sequencer.js";
import { InProcessPubSub } from "./in-process-pub-sub.js";
import { MemoryBackend } from "./memory-backend.js";
import { SequencerPool } from "./sequencer-pool.js";

const DOC = "seq-doc";

/** A pub/sub that loses the messages whose revision is in `drop` (Redis loses messages too). */
function lossyPubSub(drop: Set<number>): InProcessPubSub {
  return new InProcessPubSub({ dropIf: (_channel, message) => drop.has(message.revision) });
}

/** Commit an append of `<r>` as the next revision, as a server would. */
async function commitNext(backend: IBackendAdapter, docId = DOC, clientId?: string): Promise<number> {
  const record = await backend.getRecord(docId);
  const revision = record.v + 1;
  const op = [{ r: (record.data as string).length }, { i: `<${revision}>` }];
  const result = await backend.commit(docId, {
    revision,
    op,
    snapshot: TextType.apply(record.data as string, op),
    ...(clientId === undefined ? {} : { clientId }),
  });
  expect(result).toEqual({ status: "committed", revision });
  return revision;
}

function recorder(): { revisions: number[]; notices: CommitNotice[]; resets: number[]; listener: Parameters<DocumentSequencer["add"]>[0] } {
  const revisions: number[] = [];
  const notices: CommitNotice[] = [];
  const resets: number[] = [];
  return {
    revisions,
    notices,
    resets,
    listener: {
      onCommit: (n) => {
        revisions.push(n.revision);
        notices.push(n);
      },
      onReset: (r) => resets.push(r),
    },
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup(
  options: { drop?: Set<number>; historyLimit?: number; sequencer?: Partial<DocumentSequencerOptions> } = {},
): Promise<{ backend: MemoryBackend; pubsub: InProcessPubSub; sequencer: DocumentSequencer }> {
  const pubsub = lossyPubSub(options.drop ?? new Set());
  const backend = new MemoryBackend({ pubsub, ...(options.historyLimit ? { historyLimit: options.historyLimit } : {}) });
  await backend.createDocument(DOC, "text", "");
  const sequencer = new DocumentSequencer({ docId: DOC, backend, pubsub, ...options.sequencer });
  closers.push(
    () => pubsub.close(),
    () => sequencer.close(),
  );
  await sequencer.start();
  return { backend, pubsub, sequencer };
}

describe("DocumentSequencer", () => {
  it("starts at the document's current revision and delivers later commits in order", async () => {
    const pubsub = new InProcessPubSub();
    const backend = new MemoryBackend({ pubsub });
    await backend.createDocument(DOC, "text", "");
    await commitNext(backend);
    await commitNext(backend);
    const sequencer = new DocumentSequencer({ docId: DOC, backend, pubsub });
    closers.push(() => sequencer.close());
    await sequencer.start();
    expect(sequencer.revision).toBe(2);
    const rec = recorder();
    sequencer.add(rec.listener);
    for (let k = 0; k < 5; k++) await commitNext(backend, DOC, "writer");
    await waitUntil(() => rec.revisions.length === 5, "5 commits");
    expect(rec.revisions).toEqual([3, 4, 5, 6, 7]);
    expect(rec.notices[0]).toEqual({ docId: DOC, revision: 3, op: [{ r: 6 }, { i: "<3>" }], clientId: "writer" });
  });

  it("subscribes before it reads the revision, so a commit in between is not missed", async () => {
    const pubsub = new InProcessPubSub();
    const memory = new MemoryBackend({ pubsub });
    await memory.createDocument(DOC, "text", "");
    let subscribedBeforeRead: boolean | undefined;
    // A backend whose revision read is overtaken by a commit: it returns the old revision
    // while the new commit's notice is already on its way.
    const backend: IBackendAdapter = Object.create(memory) as IBackendAdapter;
    // Only the revision read (not the lineage read, which would start the sequencer instead).
    backend.getLineage = undefined;
    backend.getRevision = async (docId: string) => {
      subscribedBeforeRead = pubsub.channelCount === 1;
      const before = await memory.getRevision(docId);
      await commitNext(memory);
      return before;
    };
    const sequencer = new DocumentSequencer({ docId: DOC, backend, pubsub });
    closers.push(() => sequencer.close());
    await sequencer.start();
    expect(subscribedBeforeRead).toBe(true);
    await waitUntil(() => sequencer.revision === 1, "the commit made during start");
    const rec = recorder();
    sequencer.add(rec.listener);
    await commitNext(memory);
    await waitUntil(() => rec.revisions.length === 1, "the next commit");
    expect(rec.revisions).toEqual([2]);
  });

  it("fills gaps left by lost pub/sub messages from history, in order", async () => {
    const drop = new Set([2, 3, 5, 8]);
    const { backend, sequencer } = await setup({ drop });
    const rec = recorder();
    sequencer.add(rec.listener);
    for (let k = 0; k < 9; k++) await commitNext(backend, DOC, "w");
    await waitUntil(() => rec.revisions.length >= 9, "9 commits");
    expect(rec.revisions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // What was filled from history carries the same fields as a published notice.
    const ops = await backend.getOps(DOC, 1);
    expect(rec.notices).toEqual(ops.map((o) => ({ docId: DOC, ...o })));
  });

  it("drops repeated notices", async () => {
    const { backend, pubsub, sequencer } = await setup();
    const rec = recorder();
    sequencer.add(rec.listener);
    await commitNext(backend);
    await commitNext(backend);
    const [first, second] = await backend.getOps(DOC, 1);
    // Repeats as a pub/sub could produce them around a reconnect.
    await pubsub.publish(documentChannel(DOC), { docId: DOC, ...first! });
    await pubsub.publish(documentChannel(DOC), { docId: DOC, ...second! });
    await pubsub.publish(documentChannel(DOC), { docId: DOC, ...first! });
    await commitNext(backend);
    await waitUntil(() => rec.revisions.includes(3), "revision 3");
    expect(rec.revisions).toEqual([1, 2, 3]);
  });

  it("holds back a revision that arrives ahead of its predecessor until the gap is filled", async () => {
    const drop = new Set([1, 2, 3]);
    const { backend, pubsub, sequencer } = await setup({ drop });
    const rec = recorder();
    sequencer.add(rec.listener);
    await commitNext(backend);
    await commitNext(backend);
    await commitNext(backend);
    const ops = await backend.getOps(DOC, 1);
    expect(rec.revisions).toEqual([]);
    // Deliver 3 by hand first: 1 and 2 must come out of history before it.
    drop.delete(3);
    await pubsub.publish(documentChannel(DOC), { docId: DOC, ...ops[2]!, revision: 3 });
    await waitUntil(() => rec.revisions.length === 3, "revisions 1-3");
    expect(rec.revisions).toEqual([1, 2, 3]);
  });

  it("catches up from history after a resubscribe (messages lost with no later commit to reveal it)", async () => {
    const drop = new Set<number>();
    const pubsub = lossyPubSub(drop);
    const backend = new MemoryBackend({ pubsub });
    await backend.createDocument(DOC, "text", "");
    const pool = new SequencerPool({ backend, pubsub });
    closers.push(() => pool.close());
    const sequencer = await pool.acquire(DOC);
    const rec = recorder();
    sequencer.add(rec.listener);
    await commitNext(backend);
    drop.add(2).add(3);
    await commitNext(backend);
    await commitNext(backend);
    await waitUntil(() => rec.revisions.length === 1, "revision 1");
    pubsub.simulateResubscribe();
    await waitUntil(() => rec.revisions.length === 3, "revisions 2-3 after the resubscribe");
    expect(rec.revisions).toEqual([1, 2, 3]);
  });

  it("after a resubscribe, a revision delivered while the lineage read is in flight is no sign the document went back", async () => {
    const pubsub = new InProcessPubSub();
    const memory = new MemoryBackend({ pubsub });
    await memory.createDocument(DOC, "text", "");
    const overtaken = overtakenLineage(
      memory,
      () => commitNext(memory, DOC, "other"),
      () => sequencer.revision,
    );
    const pool = new SequencerPool({ backend: overtaken.backend, pubsub });
    closers.push(
      () => pubsub.close(),
      () => pool.close(),
    );
    const sequencer = await pool.acquire(DOC);
    const rec = recorder();
    const lost: string[] = [];
    sequencer.add({ ...rec.listener, onLost: (reason) => lost.push(reason) });
    await commitNext(memory);
    await waitUntil(() => rec.revisions.length === 1, "revision 1");
    overtaken.arm();
    pubsub.simulateResubscribe();
    await waitUntil(() => !overtaken.armed && rec.revisions.length === 2, "the lineage read and revision 2");
    await commitNext(memory);
    await waitUntil(() => rec.revisions.length === 3 || lost.length > 0, "revision 3, or the sequencer lost");
    expect(lost).toEqual([]);
    expect(sequencer.status).toBe("live");
    expect(rec.revisions).toEqual([1, 2, 3]);
  });

  it("reads a locally committed revision from history when its notice does not arrive", async () => {
    const { backend, sequencer } = await setup({ drop: new Set([2]), sequencer: { lostNoticeDelayMs: 5 } });
    const rec = recorder();
    sequencer.add(rec.listener);
    await commitNext(backend);
    const lost = await commitNext(backend);
    sequencer.noteCommitted(lost);
    await waitUntil(() => rec.revisions.length === 2, "the lost revision 2");
    expect(rec.revisions).toEqual([1, 2]);
  });

  it("retries a failed history read", async () => {
    const drop = new Set([1]);
    const pubsub = lossyPubSub(drop);
    const memory = new MemoryBackend({ pubsub });
    await memory.createDocument(DOC, "text", "");
    let failuresLeft = 2;
    const backend: IBackendAdapter = Object.create(memory) as IBackendAdapter;
    backend.getOps = (docId, from, to) => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        return Promise.reject(new Error("backend unavailable (simulated)"));
      }
      return memory.getOps(docId, from, to);
    };
    const warnings: string[] = [];
    const sequencer = new DocumentSequencer({
      docId: DOC,
      backend,
      pubsub,
      retryDelayMs: 1,
      logger: { warn: (message) => warnings.push(message) },
    });
    closers.push(() => sequencer.close());
    await sequencer.start();
    const rec = recorder();
    sequencer.add(rec.listener);
    await commitNext(memory);
    await commitNext(memory);
    await waitUntil(() => rec.revisions.length === 2, "revisions 1-2");
    expect(rec.revisions).toEqual([1, 2]);
    expect(failuresLeft).toBe(0);
    expect(warnings.length).toBeGreaterThanOrEqual(2);
  });

  it("resets its listeners when the missing ops were trimmed from history", async () => {
    const drop = new Set([1, 2, 3, 4, 5]);
    const { backend, sequencer } = await setup({ drop, historyLimit: 2 });
    const rec = recorder();
    sequencer.add(rec.listener);
    for (let k = 0; k < 6; k++) await commitNext(backend);
    await waitUntil(() => rec.resets.length === 1, "a reset");
    expect(rec.resets).toEqual([6]);
    expect(rec.revisions).toEqual([]);
    expect(sequencer.revision).toBe(6);
    await commitNext(backend);
    await waitUntil(() => rec.revisions.length === 1, "revision 7");
    expect(rec.revisions).toEqual([7]);
  });

  it("keeps delivering to other listeners when one throws", async () => {
    const { backend, sequencer } = await setup();
    const rec = recorder();
    sequencer.add({
      onCommit: () => {
        throw new Error("listener failure (expected by the test)");
      },
    });
    sequencer.add(rec.listener);
    await commitNext(backend);
    await commitNext(backend);
    await waitUntil(() => rec.revisions.length === 2, "2 commits");
    expect(rec.revisions).toEqual([1, 2]);
  });

  it("stops delivering to a removed listener and unsubscribes on close", async () => {
    const { backend, pubsub, sequencer } = await setup();
    const gone = recorder();
    const stays = recorder();
    const remove = sequencer.add(gone.listener);
    sequencer.add(stays.listener);
    await commitNext(backend);
    await waitUntil(() => gone.revisions.length === 1 && stays.revisions.length === 1, "revision 1 on both");
    remove();
    await commitNext(backend);
    await waitUntil(() => stays.revisions.length === 2, "revision 2");
    expect(gone.revisions).toEqual([1]);
    await sequencer.close();
    expect(sequencer.status).toBe("closed");
    expect(pubsub.channelCount).toBe(0);
  });

  it("fails to start for an unknown document, leaving no subscription behind", async () => {
    const pubsub = new InProcessPubSub();
    const backend = new MemoryBackend({ pubsub });
    const sequencer = new DocumentSequencer({ docId: "missing", backend, pubsub });
    await expect(sequencer.start()).rejects.toMatchObject({ name: "DocumentNotFoundError" });
    expect(sequencer.status).toBe("closed");
    expect(pubsub.channelCount).toBe(0);
  });
});

/**
 * A sequencer whose notices go through a {@link HeldPubSub} (held or lost at will), counting
 * its history reads; commits are made on the backend directly, as a Server would.
 */
async function setupHeld(options: { drop?: Set<number>; sequencer?: Partial<DocumentSequencerOptions> } = {}): Promise<{
  backend: MemoryBackend;
  inner: InProcessPubSub;
  held: HeldPubSub;
  sequencer: DocumentSequencer;
  reads: { count: number };
}> {
  const inner = lossyPubSub(options.drop ?? new Set());
  const backend = new MemoryBackend({ pubsub: inner });
  await backend.createDocument(DOC, "text", "");
  const held = new HeldPubSub(inner);
  const reads = { count: 0 };
  const counting: IBackendAdapter = Object.create(backend) as IBackendAdapter;
  counting.getOps = (docId, from, to) => {
    reads.count += 1;
    return backend.getOps(docId, from, to);
  };
  const sequencer = new DocumentSequencer({ docId: DOC, backend: counting, pubsub: held, ...options.sequencer });
  closers.push(
    () => inner.close(),
    () => held.close(),
    () => sequencer.close(),
  );
  await sequencer.start();
  return { backend, inner, held, sequencer, reads };
}

/** Commit the next revision and give the local notice a server would make of it. */
async function commitLocal(backend: IBackendAdapter, clientId: string, seq: number): Promise<CommitNotice> {
  const revision = await commitNext(backend, DOC, clientId);
  // The stored op carries no seq (commitNext sends none): add the one a server would have sent.
  const [stored] = await backend.getOps(DOC, revision, revision);
  return { docId: DOC, revision, op: stored!.op, clientId, seq };
}

describe("DocumentSequencer: local commits (acceptLocal)", () => {
  it("delivers a local commit at once, before its notice, and drops the notice when it arrives", async () => {
    const { backend, held, sequencer, reads } = await setupHeld();
    const rec = recorder();
    sequencer.add(rec.listener);
    held.hold();
    const local = await commitLocal(backend, "me", 1);
    await settle();
    expect(held.heldCount).toBe(1); // its notice is on the way, not delivered
    sequencer.acceptLocal(local);
    // Synchronously: the ack does not wait for the pub/sub.
    expect(rec.revisions).toEqual([1]);
    expect(rec.notices[0]).toBe(local);
    held.release();
    await settle();
    expect(held.delivered).toBe(1);
    expect(rec.revisions).toEqual([1]); // the late notice was a repeat
    // The channel keeps working for later commits, and a second acceptLocal is a repeat too.
    sequencer.acceptLocal(local);
    await commitNext(backend, DOC, "other");
    await waitUntil(() => rec.revisions.length === 2, "revision 2 by pub/sub");
    expect(rec.revisions).toEqual([1, 2]);
    expect(reads.count).toBe(0);
  });

  it("drops a local commit whose notice came first", async () => {
    const { backend, sequencer } = await setupHeld();
    const rec = recorder();
    sequencer.add(rec.listener);
    const local = await commitLocal(backend, "me", 1);
    await waitUntil(() => rec.revisions.length === 1, "the notice of revision 1");
    const byNotice = rec.notices[0];
    sequencer.acceptLocal(local);
    expect(rec.revisions).toEqual([1]);
    expect(rec.notices[0]).toBe(byNotice);
  });

  it("holds a local commit ahead of a missing revision until that revision's notice arrives, without reading history", async () => {
    const { backend, held, sequencer, reads } = await setupHeld({ sequencer: { lostNoticeDelayMs: 60_000 } });
    const rec = recorder();
    sequencer.add(rec.listener);
    held.hold();
    await commitNext(backend, DOC, "other"); // another instance's commit, notice on the way
    const local = await commitLocal(backend, "me", 1);
    sequencer.acceptLocal(local);
    await settle();
    expect(rec.revisions).toEqual([]); // never ahead of revision 1
    expect(reads.count).toBe(0); // revision 1's notice is on the way: no history read yet
    held.release();
    await waitUntil(() => rec.revisions.length === 2, "revisions 1-2");
    await settle();
    expect(rec.revisions).toEqual([1, 2]);
    expect(rec.notices[1]).toBe(local);
    expect(reads.count).toBe(0);
  });

  it("fills the gap below a local commit from history when the missing notice is lost", async () => {
    const { backend, held, sequencer, reads } = await setupHeld({ sequencer: { lostNoticeDelayMs: 5 } });
    const rec = recorder();
    sequencer.add(rec.listener);
    held.hold();
    await commitNext(backend, DOC, "other");
    const local = await commitLocal(backend, "me", 1);
    await settle();
    held.discardHeld(); // both notices lost
    held.release();
    sequencer.acceptLocal(local);
    expect(rec.revisions).toEqual([]);
    await waitUntil(() => rec.revisions.length === 2, "revision 1 from history, then 2");
    expect(rec.revisions).toEqual([1, 2]);
    expect(rec.notices[0]).toEqual({ docId: DOC, ...(await backend.getOps(DOC, 1, 1))[0] });
    expect(reads.count).toBeGreaterThan(0);
    // Nothing is left held back: the next commit comes straight through.
    await commitNext(backend, DOC, "other");
    await waitUntil(() => rec.revisions.length === 3, "revision 3");
    expect(rec.revisions).toEqual([1, 2, 3]);
  });

  it("fills the gap at once when a later notice reveals it, delivering the held local commit after it", async () => {
    // Revision 1's notice is lost; the local revision 2 waits; revision 3's notice shows the gap.
    const { backend, sequencer } = await setupHeld({ drop: new Set([1, 2]), sequencer: { lostNoticeDelayMs: 60_000 } });
    const rec = recorder();
    sequencer.add(rec.listener);
    await commitNext(backend, DOC, "other");
    const local = await commitLocal(backend, "me", 1);
    sequencer.acceptLocal(local);
    await commitNext(backend, DOC, "other");
    await waitUntil(() => rec.revisions.length === 3, "revisions 1-3");
    expect(rec.revisions).toEqual([1, 2, 3]);
    expect(rec.notices[1]).toBe(local);
  });

  it("catches up after a resubscribe with a local commit held ahead", async () => {
    const inner = lossyPubSub(new Set());
    const backend = new MemoryBackend({ pubsub: inner });
    await backend.createDocument(DOC, "text", "");
    const held = new HeldPubSub(inner);
    const pool = new SequencerPool({ backend, pubsub: held, sequencer: { lostNoticeDelayMs: 60_000 } });
    closers.push(
      () => inner.close(),
      () => held.close(),
      () => pool.close(),
    );
    const sequencer = await pool.acquire(DOC);
    const rec = recorder();
    sequencer.add(rec.listener);
    pool.acceptLocal(await commitLocal(backend, "me", 1));
    expect(rec.revisions).toEqual([1]);
    held.hold();
    await commitNext(backend, DOC, "other");
    await commitNext(backend, DOC, "other");
    const local = await commitLocal(backend, "me", 2);
    await settle();
    held.discardHeld(); // the subscriber connection dropped: the notices of 2-4 are lost
    held.release();
    pool.acceptLocal(local);
    await settle();
    expect(rec.revisions).toEqual([1]);
    inner.simulateResubscribe();
    await waitUntil(() => rec.revisions.length === 4, "revisions 2-4 after the resubscribe");
    expect(rec.revisions).toEqual([1, 2, 3, 4]);
    expect(rec.notices[3]).toBe(local);
  });

  it("ignores a local commit for a document it has no sequencer for, and before start", async () => {
    const pubsub = new InProcessPubSub();
    const backend = new MemoryBackend({ pubsub });
    await backend.createDocument(DOC, "text", "");
    const pool = new SequencerPool({ backend, pubsub });
    closers.push(() => pool.close());
    const local = await commitLocal(backend, "me", 1);
    pool.acceptLocal(local); // no sequencer: nothing to do
    const sequencer = new DocumentSequencer({ docId: DOC, backend, pubsub });
    closers.push(() => sequencer.close());
    sequencer.acceptLocal(local); // idle: ignored
    await sequencer.start();
    expect(sequencer.revision).toBe(1);
    const rec = recorder();
    sequencer.add(rec.listener);
    sequencer.acceptLocal(local); // already part of its start revision
    const next = await commitLocal(backend, "me", 2);
    sequencer.acceptLocal(next);
    expect(rec.revisions).toEqual([2]);
    await settle();
    expect(rec.revisions).toEqual([2]);
  });
});

describe("SequencerPool", () => {
  it("shares one sequencer per document and unsubscribes when the last user releases it", async () => {
    const pubsub = new InProcessPubSub();
    const backend = new MemoryBackend({ pubsub });
    await backend.createDocument(DOC, "text", "");
    await backend.createDocument("other", "text", "");
    const pool = new SequencerPool({ backend, pubsub });
    closers.push(() => pool.close());
    const [a, b] = await Promise.all([pool.acquire(DOC), pool.acquire(DOC)]);
    expect(a).toBe(b);
    const other = await pool.acquire("other");
    expect(other).not.toBe(a);
    expect(pool.size).toBe(2);
    expect(pubsub.channelCount).toBe(2);
    pool.release(DOC);
    expect(pool.size).toBe(2);
    pool.release(DOC);
    expect(pool.size).toBe(1);
    await waitUntil(() => pubsub.channelCount === 1, "the document's channel to be unsubscribed");
    // Acquiring again makes a fresh, working sequencer.
    const again = await pool.acquire(DOC);
    expect(again).not.toBe(a);
    const rec = recorder();
    again.add(rec.listener);
    await commitNext(backend);
    await waitUntil(() => rec.revisions.length === 1, "revision 1");
  });

  it("rejects for an unknown document and keeps nothing", async () => {
    const pubsub = new InProcessPubSub();
    const backend = new MemoryBackend({ pubsub });
    const pool = new SequencerPool({ backend, pubsub });
    closers.push(() => pool.close());
    await expect(pool.acquire("missing")).rejects.toMatchObject({ name: "DocumentNotFoundError" });
    expect(pool.size).toBe(0);
    expect(pubsub.channelCount).toBe(0);
  });
});

describe("DocumentSequencer: duplicates (noteDuplicate)", () => {
  it("reads history once, after lostNoticeDelayMs, for a commit whose notice was lost, however many duplicates arrive", async () => {
    const { backend, held, sequencer, reads } = await setupHeld({ sequencer: { lostNoticeDelayMs: 20 } });
    const rec = recorder();
    sequencer.add(rec.listener);
    held.hold();
    await commitNext(backend, DOC, "me");
    await settle();
    held.discardHeld();
    held.release();
    const before = reads.count;
    // An op sent again 100 times without rejoining: the store names no original revision.
    for (let i = 0; i < 100; i++) sequencer.noteDuplicate(undefined);
    expect(rec.revisions).toEqual([]);
    await waitUntil(() => rec.revisions.length === 1, "the commit read from history", 2_000);
    await settle();
    expect(rec.revisions).toEqual([1]);
    expect(reads.count - before).toBe(1);
  });

  it("with the original's revision already delivered, reads nothing", async () => {
    const { backend, sequencer, reads } = await setupHeld({ sequencer: { lostNoticeDelayMs: 5 } });
    const rec = recorder();
    sequencer.add(rec.listener);
    await commitNext(backend, DOC, "me");
    await waitUntil(() => rec.revisions.length === 1, "the commit's notice", 2_000);
    const before = reads.count;
    sequencer.noteDuplicate(1);
    await new Promise<void>((resolve) => setTimeout(resolve, 30));
    expect(reads.count - before).toBe(0);
    expect(rec.revisions).toEqual([1]);
  });
});
