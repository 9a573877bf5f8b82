import { TextType, type TextOp } from "@open-ot/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { opFromSteps, type Step } from "../../core/test/op-from-steps.js";
import type { CommitRequest, IBackendAdapter } from "./backend.js";
import { MemoryBackend } from "./memory-backend.js";
import { OTError } from "./ot-error.js";
import { Server } from "./server.js";

async function setup(options: { text?: string; historyLimit?: number } = {}): Promise<{ backend: MemoryBackend; server: Server }> {
  const backend = new MemoryBackend(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit });
  await backend.createDocument("doc", "text", options.text ?? "abc");
  return { backend, server: new Server(backend) };
}

/** Expect `promise` to reject with an OTError carrying `code` (and the given details). */
async function expectRefusal(promise: Promise<unknown>, code: string, details: Record<string, unknown> = {}): Promise<OTError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a refusal with ${code}, but the submit succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OTError);
  expect(error).toMatchObject({ code, ...details });
  expect((error as OTError).message.length).toBeGreaterThan(10);
  return error as OTError;
}

/** Wrap a backend, replacing some methods (the rest still reach the original). */
function wrap(backend: IBackendAdapter, overrides: Partial<IBackendAdapter>): IBackendAdapter {
  return Object.assign(Object.create(backend) as IBackendAdapter, overrides);
}

describe("Server.submitOperation", () => {
  it("commits an op based on the current revision as it is (published shape: { op, revision })", async () => {
    const { backend, server } = await setup();
    const result = await server.submitOperation("doc", [{ r: 3 }, { i: "d" }], 0);
    expect(result).toEqual({ op: [{ r: 3 }, { i: "d" }], revision: 1 });
    await expect(backend.getRecord("doc")).resolves.toEqual({ type: "text", v: 1, data: "abcd" });
  });

  it("normalises the op before committing it", async () => {
    const { backend, server } = await setup();
    const result = await server.submitOperation("doc", [{ r: 1 }, { r: 0 }, { i: "" }, { i: "x" }, { r: 2 }], 0);
    expect(result.op).toEqual([{ r: 1 }, { i: "x" }]);
    await expect(backend.getOps("doc", 1)).resolves.toEqual([{ revision: 1, op: [{ r: 1 }, { i: "x" }] }]);
  });

  it("transforms a stale op against everything committed after its base, the incoming op on the right", async () => {
    const { backend, server } = await setup();
    await server.submitOperation("doc", [{ i: "X" }], 0);
    await server.submitOperation("doc", [{ r: 1 }, { d: 1 }], 1); // delete "a"
    // Based on revision 0: insert at 0 (ties with X, so it goes after it) and delete "c".
    const result = await server.submitOperation("doc", [{ i: "Y" }, { r: 2 }, { d: 1 }], 0);
    expect(result.revision).toBe(3);
    expect(result.op).toEqual([{ r: 1 }, { i: "Y" }, { r: 1 }, { d: 1 }]);
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 3, data: "XYb" });
  });

  it("records clientId and seq, and drops a resend of the same (clientId, seq) whatever its revision and content", async () => {
    const { backend, server } = await setup();
    const first = await server.submitOperation("doc", [{ i: "1" }], 0, { clientId: "alice", seq: 1 });
    expect(first).toEqual({ op: [{ i: "1" }], revision: 1 });
    await server.submitOperation("doc", [{ i: "2" }], 1, { clientId: "bob", seq: 1 });
    for (const [op, revision] of [
      [[{ i: "1" }], 0],
      [[{ i: "other" }], 2],
      [[{ r: 999 }], 1], // would be invalid_op if it were judged
    ] as const) {
      await expect(server.submitOperation("doc", op, revision, { clientId: "alice", seq: 1 })).resolves.toEqual({
        duplicate: true,
        revision: 1,
        lastSeq: 1,
      });
    }
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 2, data: "21abc" });
    await expect(backend.getLastSeq("doc", "alice")).resolves.toBe(1);
  });

  it("treats an older seq as a duplicate too, naming its revision when the server still knows it", async () => {
    const { server } = await setup();
    await server.submitOperation("doc", [{ i: "a" }], 0, { clientId: "alice", seq: 1 });
    await server.submitOperation("doc", [{ i: "b" }], 1, { clientId: "alice", seq: 2 });
    await expect(server.submitOperation("doc", [{ i: "a" }], 0, { clientId: "alice", seq: 1 })).resolves.toEqual({
      duplicate: true,
      revision: 1,
      lastSeq: 2,
    });
    // A fresh server that keeps no recent ops still recognises it, without the revision.
    const forgetful = new Server(server.backend, { recentOps: 0 });
    await expect(forgetful.submitOperation("doc", [{ i: "a" }], 0, { clientId: "alice", seq: 1 })).resolves.toEqual({
      duplicate: true,
      lastSeq: 2,
    });
    // One that does keeps the ops it read to judge the resend, and names the revision from them.
    const fresh = new Server(server.backend);
    await expect(fresh.submitOperation("doc", [{ i: "a" }], 0, { clientId: "alice", seq: 1 })).resolves.toEqual({
      duplicate: true,
      revision: 1,
      lastSeq: 2,
    });
  });

  it("does not de-duplicate without a clientId or without a seq", async () => {
    const { backend, server } = await setup();
    await server.submitOperation("doc", [{ i: "x" }], 0, { seq: 1 });
    await server.submitOperation("doc", [{ i: "x" }], 1, { seq: 1 });
    await server.submitOperation("doc", [{ i: "y" }], 2, { clientId: "c" });
    await server.submitOperation("doc", [{ i: "y" }], 3, { clientId: "c" });
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 4, data: "yyxxabc" });
  });

  describe("refusals (each leaves the document unchanged)", () => {
    async function unchanged(backend: MemoryBackend, revision: number, text: string): Promise<void> {
      await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: revision, data: text });
    }

    it("not_found for an unknown document", async () => {
      const { server } = await setup();
      await expectRefusal(server.submitOperation("nope", [{ i: "x" }], 0, { clientId: "c", seq: 4 }), "not_found", {
        docId: "nope",
        seq: 4,
      });
    });

    it("bad_message for an invalid docId, clientId or seq", async () => {
      const { backend, server } = await setup();
      await expectRefusal(server.submitOperation("a/b", [], 0), "bad_message");
      await expectRefusal(server.submitOperation("doc", [], 0, { clientId: "" }), "bad_message");
      await expectRefusal(server.submitOperation("doc", [], 0, { clientId: "x".repeat(129) }), "bad_message");
      await expectRefusal(server.submitOperation("doc", [], 0, { clientId: "c", seq: 0 }), "bad_message");
      await expectRefusal(server.submitOperation("doc", [], 0, { clientId: "c", seq: 1.5 }), "bad_message");
      await unchanged(backend, 0, "abc");
    });

    it("bad_revision for a revision that is not a non-negative integer or is ahead of the document", async () => {
      const { backend, server } = await setup();
      await server.submitOperation("doc", [{ i: "x" }], 0);
      for (const revision of [-1, 0.5, Number.NaN, null, "1", 2, 100]) {
        await expectRefusal(server.submitOperation("doc", [], revision as number, { clientId: "c", seq: 9 }), "bad_revision", {
          docId: "doc",
          seq: 9,
        });
      }
      await unchanged(backend, 1, "xabc");
      await expect(backend.getLastSeq("doc", "c")).resolves.toBeUndefined();
    });

    it("invalid_op for ops that are malformed or do not fit the document", async () => {
      const { backend, server } = await setup({ text: "a😀b" });
      const bad: unknown[] = [
        "not an array",
        null,
        [{ x: 1 }],
        [{ r: -1 }],
        [{ r: 1.5 }],
        [{ i: 5 }],
        [{ r: 1, i: "x" }],
        [{ r: 5 }], // past the end (length 4)
        [{ d: 9 }],
        [{ r: 2 }, { i: "x" }], // splits the surrogate pair of 😀
        [{ i: "\ud800" }], // lone surrogate
      ];
      for (const op of bad) {
        await expectRefusal(server.submitOperation("doc", op, 0, { clientId: "c", seq: 3 }), "invalid_op", { docId: "doc", seq: 3 });
      }
      await unchanged(backend, 0, "a😀b");
      await expect(backend.getLastSeq("doc", "c")).resolves.toBeUndefined();
    });

    it("invalid_op for a stale op that did not fit its own base revision", async () => {
      const { backend, server } = await setup({ text: "abc" });
      await server.submitOperation("doc", [{ d: 2 }], 0); // "c"
      await server.submitOperation("doc", [{ i: "xyz" }], 1); // "xyzc"
      // Length 3 at revision 0: a retain of 4 reaches past the end, even a trailing one, even
      // though the document is longer now.
      await expectRefusal(server.submitOperation("doc", [{ r: 4 }, { i: "x" }], 0), "invalid_op");
      await expectRefusal(server.submitOperation("doc", [{ r: 4 }], 0), "invalid_op");
      await expectRefusal(server.submitOperation("doc", [{ d: 4 }], 0), "invalid_op");
      await unchanged(backend, 2, "xyzc");
      // At its limit it fits.
      await expect(server.submitOperation("doc", [{ r: 3 }, { i: "!" }], 0)).resolves.toMatchObject({ revision: 3 });
      await unchanged(backend, 3, "xyzc!");
    });

    it("resync_required for an op based on a revision the backend trimmed, even while this server's cache still holds the ops after it", async () => {
      const { backend, server } = await setup({ historyLimit: 2 });
      for (let r = 0; r < 4; r++) await server.submitOperation("doc", [{ i: `${r}` }], r);
      // A join from revision 1 is answered with a snapshot now (the backend keeps only 3..4), and
      // the client resends its rebased edits under the op's seq. An old copy of that op, based
      // on 1, must not commit: the resent edits would be dropped as its duplicate.
      await expect(backend.getOps("doc", 2)).rejects.toMatchObject({ name: "HistoryTrimmedError" });
      await expectRefusal(server.submitOperation("doc", [{ i: "late" }], 1, { clientId: "c", seq: 1 }), "resync_required", {
        docId: "doc",
        seq: 1,
      });
      await unchanged(backend, 4, "3210abc");
      // Based on the oldest kept revision's predecessor, it is still served (from the cache).
      await expect(server.submitOperation("doc", [{ i: "ok" }], 2)).resolves.toMatchObject({ revision: 5 });
      await unchanged(backend, 5, "32ok10abc");
    });

    it("resync_required for an op based on a revision older than the kept history", async () => {
      const { backend } = await setup({ historyLimit: 2 });
      // No recent ops in memory: the server knows only what the backend keeps.
      const server = new Server(backend, { recentOps: 0 });
      for (let r = 0; r < 4; r++) await server.submitOperation("doc", [{ i: `${r}` }], r);
      await expectRefusal(server.submitOperation("doc", [{ i: "late" }], 1, { clientId: "c", seq: 1 }), "resync_required", {
        docId: "doc",
        seq: 1,
      });
      // Based on the oldest kept revision's predecessor, it still works.
      await expect(server.submitOperation("doc", [{ i: "ok" }], 2)).resolves.toMatchObject({ revision: 5 });
      await unchanged(backend, 5, "32ok10abc");
    });

    it("checks in the protocol's order: document, revision, duplicate, kept history, op", async () => {
      const { backend } = await setup({ historyLimit: 2 });
      const server = new Server(backend, { recentOps: 0 });
      await server.submitOperation("doc", [{ i: "a" }], 0, { clientId: "c", seq: 1 });
      for (let r = 1; r < 4; r++) await server.submitOperation("doc", [{ i: "z" }], r);
      // not_found before bad_revision
      await expectRefusal(server.submitOperation("missing", [], -1), "not_found");
      // bad_revision before duplicate
      await expectRefusal(server.submitOperation("doc", [], 99, { clientId: "c", seq: 1 }), "bad_revision");
      // duplicate before kept history and before the op
      await expect(server.submitOperation("doc", "garbage", 0, { clientId: "c", seq: 1 })).resolves.toMatchObject({
        duplicate: true,
      });
      // kept history before the op
      await expectRefusal(server.submitOperation("doc", "garbage", 0, { clientId: "c", seq: 2 }), "resync_required");
      await unchanged(backend, 4, "zzzaabc");
    });
  });

  describe("several servers on one backend", () => {
    it("retries a commit that lost the race, transforming it against the winner", async () => {
      const { backend, server: first } = await setup({ text: "" });
      const second = new Server(backend);
      // Both load the document at revision 0.
      await first.getDocument("doc");
      await second.getDocument("doc");
      await first.submitOperation("doc", [{ i: "first" }], 0, { clientId: "a", seq: 1 });
      // `second` still believes the document is at 0: its commit conflicts, then succeeds.
      const result = await second.submitOperation("doc", [{ i: "second" }], 0, { clientId: "b", seq: 1 });
      expect(result).toEqual({ op: [{ r: 5 }, { i: "second" }], revision: 2 });
      await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 2, data: "firstsecond" });
    });

    it("keeps every op exactly once when many are submitted concurrently to two servers", async () => {
      const { backend, server: a } = await setup({ text: "" });
      const b = new Server(backend);
      const submits: Promise<unknown>[] = [];
      for (let k = 1; k <= 15; k++) {
        submits.push(a.submitOperation("doc", [{ i: `a${k};` }], 0, { clientId: "client-a", seq: k }));
        submits.push(b.submitOperation("doc", [{ i: `b${k};` }], 0, { clientId: "client-b", seq: k }));
        // The same op resent through the other server must not commit twice.
        if (k % 5 === 0) submits.push(b.submitOperation("doc", [{ i: `a${k};` }], 0, { clientId: "client-a", seq: k }));
      }
      await Promise.all(submits);
      const record = await backend.getRecord("doc");
      expect(record.v).toBe(30);
      for (let k = 1; k <= 15; k++) {
        expect((record.data as string).split(`a${k};`)).toHaveLength(2);
        expect((record.data as string).split(`b${k};`)).toHaveLength(2);
      }
      // The stored snapshot is what replaying the history gives.
      const ops = await backend.getOps("doc", 1);
      expect(ops.reduce((doc, c) => TextType.apply(doc, c.op as TextOp), "")).toBe(record.data);
    });

    it("fails with internal after maxCommitAttempts when other writers always win, committing nothing", async () => {
      const memory = new MemoryBackend();
      await memory.createDocument("doc", "text", "");
      let rivals = 0;
      const backend = wrap(memory, {
        commit: async (docId, request) => {
          // A rival commits just before every attempt.
          const v = await memory.getRevision(docId);
          rivals += 1;
          await memory.commit(docId, { revision: v + 1, op: [{ i: "r" }], snapshot: "r".repeat(v + 1) });
          return memory.commit(docId, request);
        },
      });
      const server = new Server(backend, { maxCommitAttempts: 3 });
      await expectRefusal(server.submitOperation("doc", [{ i: "mine" }], 0, { clientId: "c", seq: 1 }), "internal");
      expect(rivals).toBe(3);
      await expect(memory.getRecord("doc")).resolves.toEqual({ type: "text", v: 3, data: "rrr" });
      await expect(memory.getLastSeq("doc", "c")).resolves.toBeUndefined();
    });

    it("returns duplicate when the commit itself finds (clientId, seq) taken, after the early check passed", async () => {
      const { backend, server } = await setup({ text: "" });
      const racer = new Server(backend);
      const [x, y] = await Promise.all([
        server.submitOperation("doc", [{ i: "once" }], 0, { clientId: "c", seq: 1 }),
        racer.submitOperation("doc", [{ i: "once" }], 0, { clientId: "c", seq: 1 }),
      ]);
      expect([x, y].filter((r) => r.duplicate === true)).toEqual([{ duplicate: true, revision: 1, lastSeq: 1 }]);
      await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 1, data: "once" });
    });
  });

  describe("cache", () => {
    it("loads a document once and does not read history for ops based on the current revision", async () => {
      const memory = new MemoryBackend();
      await memory.createDocument("doc", "text", "");
      const calls = { getRecord: 0, getOps: 0 };
      const backend = wrap(memory, {
        getRecord: (docId) => {
          calls.getRecord += 1;
          return memory.getRecord(docId);
        },
        getOps: (docId, from, to) => {
          calls.getOps += 1;
          return memory.getOps(docId, from, to);
        },
      });
      const server = new Server(backend);
      for (let r = 0; r < 20; r++) await server.submitOperation("doc", [{ i: "x" }], r, { clientId: "c", seq: r + 1 });
      // Stale by a few revisions: served from the recent ops kept in the cache.
      await server.submitOperation("doc", [{ i: "y" }], 15);
      expect(calls).toEqual({ getRecord: 1, getOps: 0 });
    });

    it("reads history once for stale submits past the recent ops, and keeps what they needed, up to 5x recentOps", async () => {
      const memory = new MemoryBackend();
      await memory.createDocument("doc", "text", "");
      let reads = 0;
      const backend = wrap(memory, {
        getOps: (docId, from, to) => {
          reads += 1;
          return memory.getOps(docId, from, to);
        },
      });
      const other = new Server(memory);
      const commitElsewhere = async (count: number): Promise<void> => {
        for (let k = 0; k < count; k++) await other.submitOperation("doc", [{ i: "o" }], (await memory.getRecord("doc")).v);
      };
      await commitElsewhere(30);
      const server = new Server(backend, { recentOps: 4 });
      await server.getDocument("doc");
      reads = 0;
      // 20 ops behind a cache that holds none: one read, and the ops read stay as the window.
      await expect(server.submitOperation("doc", [{ i: "a" }], 10)).resolves.toMatchObject({ revision: 31 });
      await expect(server.submitOperation("doc", [{ i: "b" }], 12)).resolves.toMatchObject({ revision: 32 });
      expect(reads).toBe(1);
      // Commits no longer trim the window to 4 ops but to the 20 that were needed.
      for (let k = 0; k < 8; k++) await server.submitOperation("doc", [{ i: "c" }], 32 + k);
      await expect(server.submitOperation("doc", [{ i: "d" }], 14)).resolves.toMatchObject({ revision: 41 });
      expect(reads).toBe(1);
      // It grows no further than 5 x recentOps: after a read of 50 ops, one commit trims it to 20.
      await commitElsewhere(50);
      await server.getDocument("doc"); // catches up (one read), keeping the 20 newest
      expect(reads).toBe(2);
      await expect(server.submitOperation("doc", [{ i: "e" }], 41)).resolves.toMatchObject({ revision: 92 });
      expect(reads).toBe(3);
      await expect(server.submitOperation("doc", [{ i: "f" }], 60)).resolves.toMatchObject({ revision: 93 });
      expect(reads).toBe(4);
      // Every op landed once, and the server's view is the stored document.
      const record = await memory.getRecord("doc");
      expect(record.v).toBe(93);
      expect(
        Array.from(record.data as string)
          .sort()
          .join(""),
      ).toBe("abccccccccdef" + "o".repeat(80));
      await expect(server.getDocument("doc")).resolves.toMatchObject({ revision: 93, snapshot: record.data });
    });

    it("catches up with commits made by another instance before judging the revision", async () => {
      const { backend, server } = await setup({ text: "" });
      await server.getDocument("doc");
      const other = new Server(backend);
      await other.submitOperation("doc", [{ i: "1" }], 0);
      await other.submitOperation("doc", [{ i: "2" }], 1);
      // Revision 2 is ahead of `server`'s cache, but not of the document.
      await expect(server.submitOperation("doc", [{ i: "3" }], 2)).resolves.toEqual({ op: [{ i: "3" }], revision: 3 });
      await expect(server.getDocument("doc")).resolves.toMatchObject({ revision: 3, snapshot: "321" });
    });

    it("a failed commit rejects with the backend's error and leaves the server usable", async () => {
      const memory = new MemoryBackend();
      await memory.createDocument("doc", "text", "");
      let failNext = true;
      const backend = wrap(memory, {
        commit: (docId, request) => {
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error("connection lost (simulated)"));
          }
          return memory.commit(docId, request);
        },
      });
      const server = new Server(backend);
      await expect(server.submitOperation("doc", [{ i: "a" }], 0, { clientId: "c", seq: 1 })).rejects.toThrow("connection lost");
      await expect(memory.getRecord("doc")).resolves.toMatchObject({ v: 0, data: "" });
      await expect(server.submitOperation("doc", [{ i: "a" }], 0, { clientId: "c", seq: 1 })).resolves.toEqual({
        op: [{ i: "a" }],
        revision: 1,
      });
    });
  });
});

describe("Server text documents held lazily", () => {
  /** Characters of one or two code units; several astral ones share a high surrogate. */
  const char = fc.constantFrom("a", "b", " ", "\u{1F600}", "\u{1F601}", "\u{10000}");
  const text = (maxLength: number) => fc.array(char, { maxLength }).map((chars) => chars.join(""));
  const step: fc.Arbitrary<Step> = fc.record({ kind: fc.constantFrom("r", "r", "d", "i"), chars: fc.nat({ max: 5 }), insert: text(3) });
  const rawComponent = fc.oneof(
    fc.record({ r: fc.nat({ max: 12 }) }),
    fc.record({ d: fc.nat({ max: 3 }) }),
    fc.record({ i: fc.oneof(text(2), fc.constantFrom("\uD83D", "\uDE00")) }),
  );
  /** A submit: `back` revisions behind, through one of two servers, as whole-character steps or raw code units. */
  const submit = fc.record({
    back: fc.constantFrom(0, 0, 0, 1, 2, 4, 9, 17),
    via: fc.constantFrom(0, 0, 0, 1),
    steps: fc.array(step, { maxLength: 5 }),
    raw: fc.option(fc.array(rawComponent, { maxLength: 4 }), { freq: 4 }),
  });

  async function outcome(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      (result) => result,
      (error: unknown) => (error instanceof OTError ? { code: error.code, message: error.message } : error),
    );
  }

  it("commits and refuses exactly as the eager path does, across instances, and stores the same documents", async () => {
    // A copy of TextType is another type to the Server: it takes the generic path, applying
    // every op to the string at once. The lazy path must be indistinguishable from it.
    const eagerText = { ...TextType };
    await fc.assert(
      fc.asyncProperty(text(12), fc.array(submit, { minLength: 1, maxLength: 70 }), async (initial, submits) => {
        const lazyBackend = new MemoryBackend();
        const eagerBackend = new MemoryBackend();
        await lazyBackend.createDocument("doc", "text", initial);
        await eagerBackend.createDocument("doc", "text", initial);
        const lazy = [new Server(lazyBackend), new Server(lazyBackend)];
        const eager = [new Server(eagerBackend, { types: [eagerText] }), new Server(eagerBackend, { types: [eagerText] })];
        const history = [initial];
        for (const s of submits) {
          const revision = Math.max(0, history.length - 1 - s.back);
          const op = s.raw ?? opFromSteps(history[revision] as string, s.steps);
          const expected = await outcome((eager[s.via] as Server).submitOperation("doc", op, revision));
          expect(await outcome((lazy[s.via] as Server).submitOperation("doc", op, revision))).toEqual(expected);
          const record = await eagerBackend.getRecord("doc");
          if (record.v === history.length) history.push(record.data as string);
        }
        for (const server of lazy)
          await expect(server.getDocument("doc")).resolves.toMatchObject({ revision: history.length - 1, snapshot: history.at(-1) });
        await expect(lazyBackend.getRecord("doc")).resolves.toEqual(await eagerBackend.getRecord("doc"));
      }),
      { numRuns: 60 },
    );
  });

  it("hands the backend the snapshot as an accessor that builds the document when read", async () => {
    const memory = new MemoryBackend();
    await memory.createDocument("doc", "text", "abc");
    const requests: CommitRequest[] = [];
    const backend = wrap(memory, {
      commit: (docId, request) => {
        requests.push(request);
        return memory.commit(docId, request);
      },
    });
    const server = new Server(backend);
    await server.submitOperation("doc", [{ r: 3 }, { i: "\u{1F600}" }], 0);
    await server.submitOperation("doc", [{ d: 1 }], 1);
    expect(requests.map((r) => typeof Object.getOwnPropertyDescriptor(r, "snapshot")?.get)).toEqual(["function", "function"]);
    expect(requests.map((r) => r.snapshot)).toEqual(["abc\u{1F600}", "bc\u{1F600}"]);
    // One getter for every request, not a closure per commit: a new closure per request made
    // V8 build a hidden class per commit, and those kept each commit's document alive through
    // young-generation GCs (see `commitRequest`).
    const getters = new Set(requests.map((r) => Object.getOwnPropertyDescriptor(r, "snapshot")?.get));
    expect(getters.size).toBe(1);
    // What a backend sees of the request is the protocol's fields, the snapshot and the epoch it was cached in, nothing else.
    expect(Object.keys(requests[0] as object).sort()).toEqual(["base", "epoch", "op", "revision", "snapshot"]);
  });
});

describe("Server documents and types", () => {
  it("creates documents of registered types and reads them", async () => {
    const server = new Server(new MemoryBackend());
    await server.createDocument("fresh");
    await server.createDocument("seeded", "text", "hello");
    await expect(server.getDocument("fresh")).resolves.toMatchObject({ revision: 0, snapshot: "" });
    await expect(server.getDocument("seeded")).resolves.toMatchObject({ revision: 0, snapshot: "hello" });
    await expect(server.createDocument("seeded")).rejects.toMatchObject({ name: "DocumentExistsError" });
    await expectRefusal(server.createDocument("x", "rich-text"), "bad_message");
    await expectRefusal(server.createDocument("bad/id"), "bad_message");
    await expectRefusal(server.getDocument("missing"), "not_found");
  });

  it("answers internal for a document whose type is not registered", async () => {
    const backend = new MemoryBackend();
    await backend.createDocument("doc", "counter", 0);
    const server = new Server(backend);
    const error = await expectRefusal(server.submitOperation("doc", 1, 0), "internal");
    expect(error.message).toContain("registerType");
    const counter = {
      name: "counter",
      create: (n?: number) => n ?? 0,
      apply: (n: number, op: number) => n + op,
      transform: (op: number) => op,
      compose: (a: number, b: number) => a + b,
    };
    server.registerType(counter);
    server.clearCache();
    await expect(server.submitOperation("doc", 5, 0)).resolves.toEqual({ op: 5, revision: 1 });
    await expect(server.getDocument("doc")).resolves.toMatchObject({ snapshot: 5 });
  });

  it("refuses bad options loudly", () => {
    expect(() => new Server(new MemoryBackend(), { maxCommitAttempts: 0 })).toThrow(/maxCommitAttempts/);
    expect(() => new Server(new MemoryBackend(), { cacheSize: -1 })).toThrow(/cacheSize/);
  });
});
