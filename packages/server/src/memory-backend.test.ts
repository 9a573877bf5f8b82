import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";
import { documentChannel, type CommitNotice } from "./backend.js";
import { InProcessPubSub } from "./in-process-pub-sub.js";
import { MemoryBackend } from "./memory-backend.js";

// The shared contract suite covers the IBackendAdapter behaviour (test/contracts.test.ts);
// these are the MemoryBackend specifics.
describe("MemoryBackend", () => {
  it("trims exactly to historyLimit, keeping the snapshot and seqs", async () => {
    const backend = new MemoryBackend({ historyLimit: 3 });
    await backend.createDocument("d", "text", "");
    for (let r = 1; r <= 7; r++) {
      await backend.commit("d", { revision: r, op: [{ i: `${r}` }], snapshot: `${r}`, clientId: "c", seq: r });
    }
    await expect(backend.getOldestKeptRevision("d")).resolves.toBe(5);
    await expect(backend.getOps("d", 5)).resolves.toHaveLength(3);
    await expect(backend.getOps("d", 4)).rejects.toMatchObject({ name: "HistoryTrimmedError", requested: 4, oldestKept: 5 });
    await expect(backend.getHistory("d", 3)).rejects.toMatchObject({ name: "HistoryTrimmedError" });
    await expect(backend.getHistory("d", 4)).resolves.toEqual([[{ i: "5" }], [{ i: "6" }], [{ i: "7" }]]);
    await expect(backend.getRecord("d")).resolves.toEqual({ type: "text", v: 7, data: "7" });
    await expect(backend.getLastSeq("d", "c")).resolves.toBe(7);
  });

  it("keeps exactly the newest historyLimit ops after every commit, across the trimmed entries' release", async () => {
    const backend = new MemoryBackend({ historyLimit: 3 });
    await backend.createDocument("d", "text", "");
    for (let r = 1; r <= 20; r++) {
      await backend.commit("d", { revision: r, op: [{ i: `${r}` }], snapshot: `${r}` });
      const oldest = Math.max(1, r - 2);
      await expect(backend.getOldestKeptRevision("d")).resolves.toBe(oldest);
      const kept = await backend.getOps("d", oldest);
      expect(kept.map((c) => c.revision)).toEqual(Array.from({ length: r - oldest + 1 }, (_, i) => oldest + i));
      expect(kept.map((c) => c.op)).toEqual(kept.map((c) => [{ i: `${c.revision}` }]));
      await expect(backend.getHistory("d", r - 1)).resolves.toEqual([[{ i: `${r}` }]]);
    }
  });

  it("keeps 10,000 ops per document by default; Infinity keeps all", async () => {
    const bounded = new MemoryBackend();
    const unbounded = new MemoryBackend({ historyLimit: Infinity });
    for (const backend of [bounded, unbounded]) {
      await backend.createDocument("d", "text", "");
      for (let r = 1; r <= 10_005; r++) await backend.commit("d", { revision: r, op: [{ i: "x" }], snapshot: "x" });
    }
    await expect(bounded.getOldestKeptRevision("d")).resolves.toBe(6);
    await expect(bounded.getOps("d", 5)).rejects.toMatchObject({ name: "HistoryTrimmedError", oldestKept: 6 });
    await expect(unbounded.getOldestKeptRevision("d")).resolves.toBe(1);
    await expect(unbounded.getOps("d", 1)).resolves.toHaveLength(10_005);
  });

  it("stores copies: callers may reuse the objects they passed", async () => {
    const backend = new MemoryBackend();
    const snapshot = { text: "a" };
    await backend.createDocument("d", "json", snapshot);
    snapshot.text = "changed";
    const op = [{ i: "x" }];
    await backend.commit("d", { revision: 1, op, snapshot: { text: "xa" } });
    op.push({ i: "y" });
    await expect(backend.getOps("d", 1)).resolves.toEqual([{ revision: 1, op: [{ i: "x" }] }]);
    await expect(backend.getRecord("d")).resolves.toMatchObject({ data: { text: "xa" } });
  });

  it("stores a private copy equal to what structuredClone makes, of plain data and of anything else", async () => {
    const cyclic: Record<string, unknown> = { a: [1] };
    cyclic.self = cyclic;
    let deep: unknown = [{ i: "x" }];
    for (let level = 0; level < 40; level++) deep = { level, deep };
    const odd = fc.constantFrom<unknown>(
      new Date(0),
      new Map([["k", { v: 1 }]]),
      Object.assign(Object.create(null) as object, { r: 1 }),
      [1, , 3], // eslint-disable-line no-sparse-arrays
      cyclic,
      deep,
      -0,
      10n,
      JSON.parse('{"__proto__": {"polluted": true}, "d": 1}') as unknown,
    );
    const value = fc.oneof(fc.jsonValue(), odd, fc.array(fc.oneof(fc.jsonValue({ maxDepth: 2 }), odd), { maxLength: 4 }));
    /** Every object reachable from `value`. */
    const objects = (value: unknown, seen = new Set<object>()): Set<object> => {
      if (typeof value === "object" && value !== null && !seen.has(value)) {
        seen.add(value);
        for (const item of value instanceof Map ? value.values() : Object.values(value)) objects(item, seen);
      }
      return seen;
    };
    let docs = 0;
    await fc.assert(
      fc.asyncProperty(value, value, async (snapshot, op) => {
        const backend = new MemoryBackend();
        const docId = `d${docs++}`;
        await backend.createDocument(docId, "json", snapshot);
        await backend.commit(docId, { revision: 1, op, snapshot });
        const [stored] = await backend.getOps(docId, 1);
        const record = await backend.getRecord(docId);
        expect(stored?.op).toStrictEqual(structuredClone(op));
        expect(record.data).toStrictEqual(structuredClone(snapshot));
        const given = objects([op, snapshot]);
        for (const kept of objects([stored?.op, record.data])) expect(given.has(kept)).toBe(false);
      }),
      { numRuns: 500 },
    );
    await expect(new MemoryBackend().createDocument("f", "json", { f: () => 1 })).rejects.toMatchObject({ name: "DataCloneError" });
  });

  it("reads a snapshot accessor only when the document is loaded, and once", async () => {
    const backend = new MemoryBackend();
    await backend.createDocument("d", "text", "");
    const reads: number[] = [];
    const lazily = (revision: number, text: string) => ({
      revision,
      op: [{ i: text }],
      get snapshot(): string {
        reads.push(revision);
        return text;
      },
    });
    await backend.commit("d", lazily(1, "a"));
    await backend.commit("d", lazily(2, "b"));
    expect(reads).toEqual([]);
    await expect(backend.getRecord("d")).resolves.toEqual({ type: "text", v: 2, data: "b" });
    await expect(backend.getRecord("d")).resolves.toEqual({ type: "text", v: 2, data: "b" });
    expect(reads).toEqual([2]);
  });

  it("publishes each commit on its pub/sub, and saveOperation too", async () => {
    const backend = new MemoryBackend();
    const got: CommitNotice[] = [];
    await backend.pubsub.subscribe(documentChannel("d"), (m) => got.push(m));
    await backend.createDocument("d", "text", "");
    await backend.saveOperation("d", [{ i: "a" }], 1);
    await backend.commit("d", { revision: 2, op: [{ i: "b" }], snapshot: "ba", clientId: "c", seq: 1 });
    await waitUntil(() => got.length === 2, "two notices");
    expect(got).toEqual([
      { docId: "d", revision: 1, op: [{ i: "a" }] },
      { docId: "d", revision: 2, op: [{ i: "b" }], clientId: "c", seq: 1 },
    ]);
  });

  it("uses the pub/sub it is given", async () => {
    const pubsub = new InProcessPubSub();
    expect(new MemoryBackend({ pubsub }).pubsub).toBe(pubsub);
  });

  it("refuses to commit once its pub/sub is closed, writing nothing", async () => {
    const backend = new MemoryBackend();
    await backend.createDocument("d", "text", "");
    await backend.pubsub.close();
    await expect(backend.commit("d", { revision: 1, op: [], snapshot: "" })).rejects.toThrow(/pub\/sub was closed/);
    await expect(backend.saveOperation("d", [], 1)).rejects.toThrow(/pub\/sub was closed/);
    await expect(backend.getRevision("d")).resolves.toBe(0);
  });

  it("saveOperation needs the document's type to be registered", async () => {
    const backend = new MemoryBackend();
    await backend.createDocument("n", "counter", 1);
    await expect(backend.saveOperation("n", 2, 1)).rejects.toThrow(/registerType/);
    backend.registerType({
      name: "counter",
      create: () => 0,
      apply: (s, op) => (s as number) + (op as number),
      transform: (op) => op,
      compose: (a, b) => (a as number) + (b as number),
    });
    await backend.saveOperation("n", 2, 1);
    await expect(backend.getRecord("n")).resolves.toEqual({ type: "counter", v: 1, data: 3 });
  });

  it("refuses a bad historyLimit", () => {
    expect(() => new MemoryBackend({ historyLimit: 0 })).toThrow(/historyLimit/);
    expect(() => new MemoryBackend({ historyLimit: 2.5 })).toThrow(/historyLimit/);
  });
});
