// Redis goes away in the middle of editing and comes back: calls fail with a clear error while it
// is down, nothing is half-committed, and editing resumes with no op lost or applied twice.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startRedisServer, waitUntil, type RedisServer } from "@open-ot/harness";
import { RedisAdapter, RedisUnavailableError } from "../src/index.js";
import { append } from "./helpers.js";

let redis: RedisServer;
const adapters: RedisAdapter[] = [];

function adapter(): RedisAdapter {
  const created = new RedisAdapter(redis.url, { snapshotEvery: 7 });
  adapters.push(created);
  return created;
}

beforeEach(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
  await redis.stop();
});

/** Resolves once `backend` answers again after Redis came back. */
async function reachable(backend: RedisAdapter, docId: string): Promise<void> {
  await waitUntil(
    () =>
      backend.getRevision(docId).then(
        () => true,
        () => false,
      ),
    "the adapter to reconnect",
    10_000,
  );
}

describe("Redis down in the middle of editing", () => {
  it("calls reject with RedisUnavailableError while it is down, and editing resumes without loss or duplicates", async () => {
    const backend = adapter();
    await backend.createDocument("doc", "text", "");

    const total = 120;
    const failures: unknown[] = [];
    let down: (() => void) | undefined;
    const wentDown = new Promise<void>((resolve) => (down = resolve));
    let back: (() => void) | undefined;
    const cameBack = new Promise<void>((resolve) => (back = resolve));

    // One editor submitting ops one after another, each with its own seq. On a failure it waits
    // for Redis to be back and resends the same seq, as a client does after rejoining.
    async function editor(): Promise<void> {
      let attempts = 0;
      for (let seq = 1; seq <= total; seq++) {
        if (seq === 10) down?.(); // the test takes Redis down while this op is on its way
        for (;;) {
          attempts += 1;
          if (attempts > total * 10) throw new Error("editor made no progress");
          try {
            const record = await backend.getRecord("doc");
            const result = await backend.commit("doc", append(record.data as string, `<${seq}>`, record.v + 1, "editor", seq));
            if (result.status === "committed" || result.status === "duplicate") break;
          } catch (error) {
            failures.push(error);
            await cameBack;
          }
        }
      }
    }

    const editing = editor();
    await wentDown;
    await redis.shutdown({ save: true });

    // While Redis is down every call fails, fast and clearly, and changes nothing.
    const whileDown = await Promise.allSettled([
      backend.getRecord("doc"),
      backend.commit("doc", append("", "x", 1, "other", 1)),
      backend.getOps("doc", 1),
    ]);
    for (const outcome of whileDown) {
      expect(outcome.status).toBe("rejected");
      const reason = (outcome as PromiseRejectedResult).reason as RedisUnavailableError;
      expect(reason).toBeInstanceOf(RedisUnavailableError);
      expect(reason.code).toBe("unavailable");
      expect(reason.message).toContain(`Redis at 127.0.0.1:${redis.port}`);
    }
    await waitUntil(() => failures.length > 0, "the editor to meet the outage", 10_000);

    await redis.start();
    await reachable(backend, "doc");
    // Nothing half-committed: what was saved at shutdown is a consistent document.
    const fresh = new RedisAdapter(redis.url, { snapshotEvery: 7, snapshotCacheSize: 0 });
    adapters.push(fresh);
    const saved = await fresh.getRecord("doc");
    const savedOps = await fresh.getOps("doc", 1);
    expect(savedOps.map((o) => o.revision)).toEqual(Array.from({ length: saved.v }, (_, i) => i + 1));
    expect(saved.data).toBe(savedOps.map((o) => `<${o.seq}>`).join(""));

    back?.();
    await editing;

    for (const failure of failures) expect(failure).toBeInstanceOf(RedisUnavailableError);
    const ops = await fresh.getOps("doc", 1);
    expect(ops.map((o) => o.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await fresh.getRecord("doc")).toEqual({
      type: "text",
      v: total,
      data: Array.from({ length: total }, (_, i) => `<${i + 1}>`).join(""),
    });
    expect(await fresh.getLastSeq("doc", "editor")).toBe(total);
  });

  it("fails at once, without sending, while the connection is known to be down", async () => {
    const backend = adapter();
    await backend.createDocument("doc", "text", "");
    await redis.kill();
    await waitUntil(
      () =>
        backend.getRevision("doc").then(
          () => false,
          (error: unknown) => error instanceof RedisUnavailableError && !error.sent,
        ),
      "a call refused without being sent",
      10_000,
    );
    await expect(backend.commit("doc", append("", "x", 1, "c", 1))).rejects.toMatchObject({
      name: "RedisUnavailableError",
      sent: false,
      message: expect.stringMatching(/unreachable .*changed nothing/),
    });
  });

  it("waits for the first connection instead of failing calls made right after construction", async () => {
    const backend = adapter();
    await expect(backend.createDocument("doc", "text", "ready")).resolves.toBeUndefined();
    expect(await backend.getRevision("doc")).toBe(0);
  });

  it("rejects calls after close(), and close() twice is harmless", async () => {
    const backend = adapter();
    await backend.createDocument("doc", "text", "");
    await backend.close();
    await backend.close();
    await expect(backend.getRecord("doc")).rejects.toThrow(/closed/);
    await expect(backend.subscribe("ot:{doc}:ops", () => undefined)).rejects.toThrow(/closed/);
  });
});
