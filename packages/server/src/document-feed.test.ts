import { describe, expect, it } from "vitest";
import type { CommitNotice, CommittedOp, IBackendAdapter } from "./backend.js";
import { DocumentFeed } from "./document-feed.js";
import type { DocumentSequencer, SequencerListener } from "./document-sequencer.js";

/** A hand-driven sequencer and a history of `length` ops, to put the feed in exact situations. */
function harness(options: { sequencerAt: number; history: number; maxBuffered?: number; failReads?: boolean }) {
  let listener: SequencerListener | undefined;
  const sequencer = {
    revision: options.sequencerAt,
    add: (l: SequencerListener) => {
      listener = l;
      return () => {
        listener = undefined;
      };
    },
  } as unknown as DocumentSequencer;
  const ops: CommittedOp[] = Array.from({ length: options.history }, (_, k) => ({ revision: k + 1, op: [{ i: `${k + 1}` }] }));
  let reads = 0;
  const backend = {
    getOps: (_docId: string, from: number) => {
      reads += 1;
      if (options.failReads) return Promise.reject(new Error("storage down (simulated)"));
      return Promise.resolve(ops.filter((o) => o.revision >= from));
    },
  } as unknown as IBackendAdapter;
  const emitted: number[] = [];
  const failures: string[] = [];
  const feed = new DocumentFeed({
    docId: "d",
    sequencer,
    backend,
    ...(options.maxBuffered === undefined ? {} : { maxBuffered: options.maxBuffered }),
    sink: { emit: (n) => emitted.push(n.revision), fail: (reason) => failures.push(reason) },
  });
  const notice = (revision: number): CommitNotice => ({ docId: "d", revision, op: [{ i: `${revision}` }] });
  return {
    feed,
    emitted,
    failures,
    reads: () => reads,
    commit: (revision: number) => listener?.onCommit(notice(revision)),
    reset: (revision: number) => listener?.onReset?.(revision),
    attached: () => listener !== undefined,
    ops,
  };
}

describe("DocumentFeed", () => {
  it("sends the replay, then the live commits that arrived meanwhile, each revision once", async () => {
    const h = harness({ sequencerAt: 4, history: 7 });
    // Live commits 5-7 arrive while the replay (2-5) is being read and sent.
    h.commit(5);
    h.commit(6);
    h.commit(7);
    expect(h.emitted).toEqual([]);
    await h.feed.start(1, h.ops.slice(1, 5));
    expect(h.emitted).toEqual([2, 3, 4, 5, 6, 7]);
    expect(h.feed.status).toBe("live");
    expect(h.reads()).toBe(0);
    h.commit(7); // a repeat
    h.commit(8);
    expect(h.emitted).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it("reads from history what the buffer dropped past maxBuffered", async () => {
    const h = harness({ sequencerAt: 2, history: 8, maxBuffered: 2 });
    for (let r = 3; r <= 8; r++) h.commit(r);
    await h.feed.start(2);
    expect(h.emitted).toEqual([3, 4, 5, 6, 7, 8]);
    expect(h.reads()).toBe(1);
    expect(h.feed.status).toBe("live");
  });

  it("recovers from a gap in live traffic by reading history", async () => {
    const h = harness({ sequencerAt: 3, history: 6 });
    await h.feed.start(3);
    h.commit(4);
    h.commit(6); // 5 missing
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(h.emitted).toEqual([4, 5, 6]);
  });

  it("fails its sink when the sequencer skipped revisions it has not sent", async () => {
    const h = harness({ sequencerAt: 3, history: 3 });
    await h.feed.start(3);
    h.reset(3); // nothing skipped for this feed
    expect(h.failures).toEqual([]);
    h.reset(9);
    expect(h.failures).toHaveLength(1);
    expect(h.failures[0]).toMatch(/join again/);
  });

  it("fails its sink and rejects when history cannot be read", async () => {
    const h = harness({ sequencerAt: 1, history: 3, maxBuffered: 1, failReads: true });
    h.commit(2);
    h.commit(3); // dropped from the full buffer: must be read
    await expect(h.feed.start(1)).rejects.toThrow("storage down");
    expect(h.emitted).toEqual([2]);
    expect(h.failures).toHaveLength(1);
    expect(h.feed.status).toBe("closed");
    expect(h.attached()).toBe(false);
  });

  it("sends nothing after close", async () => {
    const h = harness({ sequencerAt: 0, history: 2 });
    await h.feed.start(0);
    h.commit(1);
    h.feed.close();
    h.feed.close();
    h.commit(2);
    expect(h.emitted).toEqual([1]);
    expect(h.attached()).toBe(false);
  });
});
