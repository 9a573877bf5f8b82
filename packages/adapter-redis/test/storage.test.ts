// How RedisAdapter lays documents out in Redis: snapshots every N revisions, loading from the
// snapshot plus the ops after it, history trimming, key names, document ids, the seq table.
import { describe, expect, it } from "vitest";
import { documentChannel, type CommitNotice } from "@open-ot/server";
import { waitUntil } from "@open-ot/harness";
import { RedisAdapter } from "../src/index.js";
import { append, redisPerTest } from "./helpers.js";

const redis = redisPerTest((url, options) => new RedisAdapter(url, options));
const { adapter } = redis;

/** Commit appends `<r>` for revisions current+1 .. current+count, as client "w" with seq = revision. */
async function appendMany(backend: RedisAdapter, docId: string, count: number): Promise<string> {
  const record = await backend.getRecord(docId);
  let v = record.v;
  let text = record.data as string;
  for (let k = 0; k < count; k++) {
    const request = append(text, `<${v + 1}>`, v + 1, "w", v + 1);
    expect(await backend.commit(docId, request)).toEqual({ status: "committed", revision: v + 1 });
    text = request.snapshot as string;
    v += 1;
  }
  return text;
}

function expectedText(revisions: number): string {
  return Array.from({ length: revisions }, (_, i) => `<${i + 1}>`).join("");
}

describe("snapshots", () => {
  it("stores the snapshot with every N-th revision only", async () => {
    const backend = adapter({ snapshotEvery: 5 });
    await backend.createDocument("doc", "text", "");
    await appendMany(backend, "doc", 4);
    expect(await redis.raw().hmget("ot:{doc}:doc", "snapv", "snapshot")).toEqual(["0", JSON.stringify("")]);
    await appendMany(backend, "doc", 1);
    expect(await redis.raw().hmget("ot:{doc}:doc", "snapv", "snapshot")).toEqual(["5", JSON.stringify(expectedText(5))]);
    await appendMany(backend, "doc", 7);
    expect(await redis.raw().hmget("ot:{doc}:doc", "v", "snapv", "snapshot")).toEqual(["12", "10", JSON.stringify(expectedText(10))]);
  });

  it("does not send the snapshot to Redis on commits where none is due", async () => {
    const backend = adapter({ snapshotEvery: 3 });
    await backend.createDocument("doc", "text", "");
    const monitor = await redis.raw().monitor();
    const commands: string[][] = [];
    monitor.on("monitor", (_time: string, args: string[]) => commands.push(args));
    // Revision 1 is not due, revision 3 is: mark both snapshots so they can be found on the wire.
    await backend.commit("doc", { revision: 1, op: [{ i: "a" }], snapshot: "SNAPSHOT-ONE" });
    await backend.commit("doc", { revision: 2, op: [{ r: 1 }, { i: "b" }], snapshot: "SNAPSHOT-TWO" });
    await backend.commit("doc", { revision: 3, op: [{ r: 2 }, { i: "c" }], snapshot: "SNAPSHOT-THREE" });
    await waitUntil(
      () => commands.filter((args) => args[0]?.toLowerCase().startsWith("eval")).length >= 3,
      "three commits on the monitor",
      10_000,
    );
    monitor.disconnect();
    const wire = commands.map((args) => args.join(" ")).join("\n");
    expect(wire).not.toContain("SNAPSHOT-ONE");
    expect(wire).not.toContain("SNAPSHOT-TWO");
    expect(wire).toContain("SNAPSHOT-THREE");
  });

  it("reads a snapshot accessor only when a snapshot is due or the document is loaded", async () => {
    const backend = adapter({ snapshotEvery: 3 });
    await backend.createDocument("doc", "text", "");
    const reads: number[] = [];
    let text = "";
    for (let revision = 1; revision <= 4; revision++) {
      const previous = text;
      text = `${previous}${revision}`;
      const snapshot = text;
      await backend.commit("doc", {
        revision,
        op: [{ r: previous.length }, { i: `${revision}` }],
        get snapshot(): string {
          reads.push(revision);
          return snapshot;
        },
      });
    }
    // Revision 3 was due for storing; the others were never built.
    expect(reads).toEqual([3]);
    expect(await backend.getRecord("doc")).toEqual({ type: "text", v: 4, data: "1234" });
    expect(reads).toEqual([3, 4]);
  });

  it("loads a document from its last snapshot plus the ops after it, on an instance with nothing cached", async () => {
    const writer = adapter({ snapshotEvery: 4 });
    await writer.createDocument("doc", "text", "seed:");
    const text = await appendMany(writer, "doc", 10);
    expect(text).toBe(`seed:${expectedText(10)}`);
    // Revision 8 holds the snapshot; 9 and 10 must be applied to it.
    expect(await redis.raw().hget("ot:{doc}:doc", "snapv")).toBe("8");
    const reader = adapter({ snapshotEvery: 4, snapshotCacheSize: 0 });
    expect(await reader.getRecord("doc")).toEqual({ type: "text", v: 10, data: text });
    // A second instance that caches keeps following the document's commits.
    const follower = adapter({ snapshotEvery: 4 });
    expect((await follower.getRecord("doc")).data).toBe(text);
    const more = await appendMany(writer, "doc", 3);
    expect(await follower.getRecord("doc")).toEqual({ type: "text", v: 13, data: more });
  });

  it("loads from the ops alone while no snapshot beyond the initial one is due", async () => {
    const writer = adapter({ snapshotEvery: 100 });
    await writer.createDocument("doc", "text", "");
    const text = await appendMany(writer, "doc", 7);
    const reader = adapter({ snapshotCacheSize: 0 });
    expect(await reader.getRecord("doc")).toEqual({ type: "text", v: 7, data: text });
  });

  it("does not serve a cached snapshot of an earlier document with the same id", async () => {
    const backend = adapter();
    await backend.createDocument("doc", "text", "first life");
    await appendMany(backend, "doc", 2);
    // Another party wipes Redis and creates the document again with other content.
    await redis.raw().flushall();
    const other = adapter();
    await other.createDocument("doc", "text", "second life");
    expect(await backend.getRecord("doc")).toEqual({ type: "text", v: 0, data: "second life" });
  });

  it("does not serve a cached snapshot after Redis came back with an older copy of the document", async () => {
    const backend = adapter();
    await backend.createDocument("doc", "text", "");
    await appendMany(backend, "doc", 3);
    await redis.server().shutdown({ save: true }); // the dump holds revision 3
    await redis.server().start();
    await waitUntil(
      () =>
        backend.getRevision("doc").then(
          () => true,
          () => false,
        ),
      "the adapter to reconnect",
      10_000,
    );
    expect(await appendMany(backend, "doc", 2)).toBe(expectedText(5)); // cached at revision 5
    await redis.server().kill(); // a crash: revisions 4 and 5 are lost
    await redis.server().start();
    // Another instance writes a different revision 4..6 on top of the surviving revision 3.
    const other = adapter();
    let text = expectedText(3);
    for (let revision = 4; revision <= 6; revision++) {
      const request = append(text, `[${revision}]`, revision, "other", revision);
      expect(await other.commit("doc", request)).toEqual({ status: "committed", revision });
      text = request.snapshot as string;
    }
    await waitUntil(
      () =>
        backend.getRevision("doc").then(
          () => true,
          () => false,
        ),
      "the adapter to reconnect",
      10_000,
    );
    expect(await backend.getRecord("doc")).toEqual({ type: "text", v: 6, data: text });
  });

  it("refuses to create a document of a type it does not know, saying which option to set", async () => {
    const backend = adapter();
    await expect(backend.createDocument("doc", "rich-text", {})).rejects.toThrow(/pass it in the types option/);
    expect(await redis.raw().dbsize()).toBe(0);
  });
});

describe("history trimming", () => {
  it("keeps historyLimit ops and reports the oldest kept revision", async () => {
    const backend = adapter({ historyLimit: 4, snapshotEvery: 2 });
    await backend.createDocument("doc", "text", "");
    const text = await appendMany(backend, "doc", 15);
    expect(await backend.getOldestKeptRevision("doc")).toBe(12);
    expect(await redis.raw().llen("ot:{doc}:history")).toBe(4);
    expect((await backend.getOps("doc", 12)).map((o) => o.revision)).toEqual([12, 13, 14, 15]);
    await expect(backend.getOps("doc", 11)).rejects.toMatchObject({ name: "HistoryTrimmedError", oldestKept: 12 });
    expect(await adapter({ snapshotEvery: 2, snapshotCacheSize: 0 }).getRecord("doc")).toMatchObject({ v: 15, data: text });
  });

  it("never trims ops newer than the last snapshot, whatever the limit", async () => {
    const backend = adapter({ historyLimit: 2, snapshotEvery: 10 });
    await backend.createDocument("doc", "text", "");
    const text = await appendMany(backend, "doc", 19);
    // The snapshot is at revision 10: ops 11..19 are needed to load the document.
    expect(await backend.getOldestKeptRevision("doc")).toBe(11);
    expect(await redis.raw().llen("ot:{doc}:history")).toBe(9);
    expect(await adapter({ snapshotEvery: 10, snapshotCacheSize: 0 }).getRecord("doc")).toMatchObject({ v: 19, data: text });
    // Once revision 20 stores a snapshot, the limit applies again.
    await appendMany(backend, "doc", 1);
    expect(await backend.getOldestKeptRevision("doc")).toBe(19);
  });

  it("keeps everything with historyLimit Infinity", async () => {
    const backend = adapter({ historyLimit: Infinity, snapshotEvery: 2 });
    await backend.createDocument("doc", "text", "");
    await appendMany(backend, "doc", 30);
    expect(await backend.getOldestKeptRevision("doc")).toBe(1);
    expect(await redis.raw().llen("ot:{doc}:history")).toBe(30);
  });
});

describe("names", () => {
  it("puts every key of a document under its hash tag, and publishes on documentChannel(docId)", async () => {
    const backend = adapter();
    const docId = "notes:2024.q1~draft-A";
    await backend.createDocument(docId, "text", "");
    const heard: CommitNotice[] = [];
    const listener = adapter();
    await listener.subscribe(documentChannel(docId), (m) => heard.push(m));
    await backend.commit(docId, append("", "x", 1, "client-1", 1));
    expect((await redis.raw().keys("*")).sort()).toEqual([`ot:{${docId}}:doc`, `ot:{${docId}}:history`, `ot:{${docId}}:seqs`]);
    await waitUntil(() => heard.length === 1, "the commit notice", 10_000);
    expect(heard[0]).toEqual({ docId, revision: 1, op: [{ r: 0 }, { i: "x" }], clientId: "client-1", seq: 1 });
  });

  it("works with document ids made of every allowed character, up to 256 of them", async () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~:-";
    const ids = [alphabet, alphabet.repeat(4).slice(0, 256), ":", "-", "~", ".", "..", "a:b:c"];
    const backend = adapter({ snapshotEvery: 2 });
    const listener = adapter();
    for (const docId of ids) {
      const heard: CommitNotice[] = [];
      const unsubscribe = await listener.subscribe(documentChannel(docId), (m) => heard.push(m));
      await backend.createDocument(docId, "text", docId);
      await backend.commit(docId, append(docId, "!", 1, "c", 1));
      await backend.commit(docId, append(`${docId}!`, "?", 2, "c", 2));
      expect(await adapter({ snapshotCacheSize: 0, snapshotEvery: 2 }).getRecord(docId)).toEqual({
        type: "text",
        v: 2,
        data: `${docId}!?`,
      });
      expect(await backend.getLastSeq(docId, "c")).toBe(2);
      await waitUntil(() => heard.length === 2, `the notices of ${docId}`, 10_000);
      expect(heard.map((m) => [m.docId, m.revision])).toEqual([
        [docId, 1],
        [docId, 2],
      ]);
      await unsubscribe();
    }
    // Each id kept to its own three keys: no two ids collided.
    expect(await redis.raw().dbsize()).toBe(ids.length * 3);
  });

  it("rejects ids the protocol does not allow, before touching Redis", async () => {
    const backend = adapter();
    const bad = ["", "a}b", "{a}", "a b", "a*", "a?", "a/b", "é", "x".repeat(257), "a\nb"];
    for (const docId of bad) {
      await expect(backend.createDocument(docId, "text", "")).rejects.toThrow(/\[A-Za-z0-9\._~:-\]/);
      await expect(backend.getRecord(docId)).rejects.toThrow(TypeError);
      await expect(backend.commit(docId, append("", "x", 1, "c", 1))).rejects.toThrow(TypeError);
    }
    expect(await redis.raw().dbsize()).toBe(0);
  });
});

describe("the seq table", () => {
  it("stores clientId -> seq:revision", async () => {
    const backend = adapter();
    await backend.createDocument("doc", "text", "");
    await backend.commit("doc", append("", "a", 1, "alice", 7));
    await backend.commit("doc", append("a", "b", 2, "bob", 3));
    expect(await redis.raw().hgetall("ot:{doc}:seqs")).toEqual({ alice: "7:1", bob: "3:2" });
  });

  it("forgets the least recently committing clients beyond maxClientsPerDocument", async () => {
    const backend = adapter({ maxClientsPerDocument: 10 });
    await backend.createDocument("doc", "text", "");
    let text = "";
    for (let k = 1; k <= 11; k++) {
      const request = append(text, `${k},`, k, `client-${k}`, 1);
      expect((await backend.commit("doc", request)).status).toBe("committed");
      text = request.snapshot as string;
    }
    // The 11th client pushed the table past 10: it was cut to 9, the oldest committers first.
    expect(Object.keys(await redis.raw().hgetall("ot:{doc}:seqs")).sort()).toEqual(
      Array.from({ length: 9 }, (_, i) => `client-${i + 3}`).sort(),
    );
    expect(await backend.getLastSeq("doc", "client-1")).toBeUndefined();
    expect(await backend.getLastSeq("doc", "client-11")).toBe(1);
    // A remembered client is still de-duplicated.
    expect(await backend.commit("doc", append(text, "again", 12, "client-11", 1))).toEqual({
      status: "duplicate",
      revision: 11,
      lastSeq: 1,
    });
  });

  it("keeps clientId -> principal in the owners hash, and forgets it with the client's seq", async () => {
    const backend = adapter({ maxClientsPerDocument: 10 });
    await backend.createDocument("doc", "text", "");
    let text = "";
    for (let k = 1; k <= 11; k++) {
      const request = Object.assign(append(text, `${k},`, k, `client-${k}`, 1), { principal: `user-${k}` });
      expect((await backend.commit("doc", request)).status).toBe("committed");
      text = request.snapshot as string;
    }
    const owners = await redis.raw().hgetall("ot:{doc}:owners");
    expect(Object.keys(owners).sort()).toEqual(Object.keys(await redis.raw().hgetall("ot:{doc}:seqs")).sort());
    expect(owners["client-11"]).toBe("user-11");
    await expect(backend.getClientPrincipal("doc", "client-11")).resolves.toBe("user-11");
    await expect(backend.getClientPrincipal("doc", "client-1")).resolves.toBeUndefined();
    // Recreating a document whose hash was deleted by hand leaves no owners behind.
    await redis.raw().del("ot:{doc}:doc");
    await backend.createDocument("doc", "text", "");
    expect(await redis.raw().exists("ot:{doc}:owners")).toBe(0);
  });
});
