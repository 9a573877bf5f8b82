// The commit script recognises a second run of itself: the same (clientId, seq) is committed once,
// whether the caller resends it or ioredis re-sends a command whose reply was lost.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { documentChannel, type CommitNotice } from "@open-ot/server";
import { startRedisServer, waitUntil, type RedisServer } from "@open-ot/harness";
import { RedisAdapter } from "../src/index.js";
import { append, inspector } from "./helpers.js";
import { startReplyHoldingProxy, type ReplyHoldingProxy } from "./reply-holding-proxy.js";

let redis: RedisServer;
let raw: Redis;
let proxy: ReplyHoldingProxy | undefined;
const adapters: RedisAdapter[] = [];

beforeEach(async () => {
  redis = await startRedisServer();
  raw = inspector(redis.url);
});

afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
  await proxy?.close();
  proxy = undefined;
  raw.disconnect();
  await redis.stop();
});

async function observe(docId: string): Promise<CommitNotice[]> {
  const observer = new RedisAdapter(redis.url);
  adapters.push(observer);
  const heard: CommitNotice[] = [];
  await observer.subscribe(documentChannel(docId), (m) => heard.push(m));
  return heard;
}

describe("a commit run twice", () => {
  it("answers the second run with duplicate and the original revision, and applies and publishes it once", async () => {
    const backend = new RedisAdapter(redis.url);
    adapters.push(backend);
    await backend.createDocument("doc", "text", "");
    const heard = await observe("doc");
    const request = append("", "hello", 1, "client-a", 1);
    expect(await backend.commit("doc", request)).toEqual({ status: "committed", revision: 1 });
    expect(await backend.commit("doc", request)).toEqual({ status: "duplicate", revision: 1, lastSeq: 1 });
    // The same op transformed and based on a later revision is still the same (clientId, seq).
    await backend.commit("doc", append("hello", "!", 2, "client-b", 1));
    expect(await backend.commit("doc", append("hello!", "hello", 3, "client-a", 1))).toEqual({
      status: "duplicate",
      revision: 1,
      lastSeq: 1,
    });
    expect(await raw.llen("ot:{doc}:history")).toBe(2);
    expect(await backend.getRecord("doc")).toEqual({ type: "text", v: 2, data: "hello!" });
    // One more commit, so the absence of a second notice for revision 1 is observable.
    await backend.commit("doc", append("hello!", "?", 3, "client-b", 2));
    await waitUntil(() => heard.length >= 3, "three notices", 10_000);
    expect(heard.map((m) => [m.revision, m.clientId, m.seq])).toEqual([
      [1, "client-a", 1],
      [2, "client-b", 1],
      [3, "client-b", 2],
    ]);
  });

  it("when ioredis re-sends a commit whose reply was lost, the caller gets duplicate with the revision of the first run", async () => {
    proxy = await startReplyHoldingProxy(redis.port);
    const backend = new RedisAdapter({ host: "127.0.0.1", port: proxy.port });
    adapters.push(backend);
    await backend.createDocument("doc", "text", "");
    const heard = await observe("doc");

    proxy.holdReplies();
    const pending = backend.commit("doc", append("", "once", 1, "client-a", 1));
    // The script ran in Redis; only its reply is missing.
    await waitUntil(async () => (await raw.hget("ot:{doc}:doc", "v")) === "1", "the commit to land in Redis", 10_000);
    proxy.cutAll(); // ioredis reconnects and re-sends the unanswered EVALSHA

    expect(await pending).toEqual({ status: "duplicate", revision: 1, lastSeq: 1 });
    expect(await raw.llen("ot:{doc}:history")).toBe(1);
    expect(await backend.getRecord("doc")).toEqual({ type: "text", v: 1, data: "once" });
    await backend.commit("doc", append("once", "!", 2, "client-a", 2));
    await waitUntil(() => heard.length >= 2, "two notices", 10_000);
    expect(heard.map((m) => m.revision)).toEqual([1, 2]);
  });
});
