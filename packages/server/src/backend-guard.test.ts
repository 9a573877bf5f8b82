import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";
import { BackendUnavailableError, type IBackendAdapter } from "./backend.js";
import { BackendGuard } from "./backend-guard.js";
import { InProcessPubSub } from "./in-process-pub-sub.js";
import { MemoryBackend } from "./memory-backend.js";

/** A MemoryBackend whose store can be made to hang (no answer) or fail, counting the calls that reach it. */
function faultyStore(): { backend: IBackendAdapter; memory: MemoryBackend; mode: { now: "ok" | "hang" | "down" }; reached: () => number } {
  const memory = new MemoryBackend();
  const mode: { now: "ok" | "hang" | "down" } = { now: "ok" };
  let reached = 0;
  const gate = <T>(run: () => Promise<T>): Promise<T> => {
    reached += 1;
    if (mode.now === "hang") return new Promise<T>(() => undefined);
    if (mode.now === "down") return Promise.reject(new BackendUnavailableError("the store is down", false));
    return run();
  };
  const backend: IBackendAdapter = {
    createDocument: (d, t, s) => gate(() => memory.createDocument(d, t, s)),
    getRecord: (d) => gate(() => memory.getRecord(d)),
    getHistory: (d, s, e) => gate(() => memory.getHistory(d, s, e)),
    saveOperation: (d, o, r) => gate(() => memory.saveOperation(d, o, r)),
    commit: (d, r) => gate(() => memory.commit(d, r)),
    getOps: (d, f, t) => gate(() => memory.getOps(d, f, t)),
    getOldestKeptRevision: (d) => gate(() => memory.getOldestKeptRevision(d)),
    getLastSeq: (d, c) => gate(() => memory.getLastSeq(d, c)),
    getRevision: (d) => gate(() => memory.getRevision(d)),
    close: () => memory.close(),
  };
  return { backend, memory, mode, reached: () => reached };
}

const guards: BackendGuard[] = [];
afterEach(() => {
  for (const guard of guards.splice(0)) guard.close();
});

function guarded(backend: IBackendAdapter, timeoutMs = 40, probeIntervalMs = 10): BackendGuard {
  const guard = new BackendGuard(backend, { timeoutMs, probeIntervalMs });
  guards.push(guard);
  return guard;
}

describe("BackendGuard", () => {
  it("answers a call the store does not answer with BackendUnavailableError within the deadline, never by silence", async () => {
    const store = faultyStore();
    await store.memory.createDocument("d", "text", "x");
    const guard = guarded(store.backend);
    store.mode.now = "hang";
    const started = performance.now();
    const error = await guard.backend.getRevision("d").catch((e: unknown) => e);
    const took = performance.now() - started;
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error).toMatchObject({ code: "unavailable", sent: true, message: expect.stringMatching(/within 40 ms \(backendTimeoutMs\)/) });
    expect(took).toBeGreaterThanOrEqual(35);
    expect(took).toBeLessThan(1_000);
    expect(guard.health.reachable).toBe(false);
  });

  it("refuses at once without sending while the store is unreachable, probes it, and lets calls through again when it answers", async () => {
    const store = faultyStore();
    await store.memory.createDocument("d", "text", "x");
    const guard = guarded(store.backend);
    const changes: boolean[] = [];
    guard.onChange((health) => changes.push(health.reachable));
    store.mode.now = "down";
    await expect(guard.backend.getRevision("d")).rejects.toMatchObject({ code: "unavailable", sent: false });
    expect(guard.health).toMatchObject({ reachable: false, lastError: "the store is down" });
    const before = store.reached();
    // Probes go on in the background; calls do not reach the store meanwhile.
    await expect(guard.backend.commit("d", { revision: 1, op: [], snapshot: "x" })).rejects.toMatchObject({
      sent: false,
      message: expect.stringMatching(/was not sent/),
    });
    await waitUntil(() => store.reached() >= before + 2, "two probes");
    store.mode.now = "ok";
    await waitUntil(() => guard.health.reachable, "a probe to find the store back");
    await expect(guard.backend.getRevision("d")).resolves.toBe(0);
    expect(changes).toEqual([false, true]);
  });

  it("check() asks the store now: a probe of a store that answers DocumentNotFoundError counts as reachable", async () => {
    const store = faultyStore();
    const guard = guarded(store.backend);
    await expect(guard.check()).resolves.toMatchObject({ reachable: true });
    store.mode.now = "hang";
    await expect(guard.check()).resolves.toMatchObject({ reachable: false, lastError: expect.stringMatching(/health probe/) });
  });

  it("passes results and ordinary errors through, and keeps the optional methods the store has (and only those)", async () => {
    const memory = new MemoryBackend();
    const guard = guarded(memory, 1_000);
    await expect(guard.backend.getRecord("nope")).rejects.toMatchObject({ name: "DocumentNotFoundError" });
    expect(guard.health.reachable).toBe(true);
    expect(typeof guard.backend.getLineage).toBe("function");
    expect(typeof guard.backend.restoreDocument).toBe("function");
    expect(guard.backend.commitBatch).toBeUndefined();
    expect(guard.backend.checksKeptHistory).toBe(true);
    expect(typeof guarded(new MemoryBackend({ groupCommit: true })).backend.commitBatch).toBe("function");
    expect(guarded(faultyStore().backend).backend.getLineage).toBeUndefined();
  });

  it("undoes a subscription confirmed after its caller was answered unavailable", async () => {
    const pubsub = new InProcessPubSub();
    let confirm: (() => Promise<void>) | undefined;
    let subscribed = 0;
    const slow = {
      publish: pubsub.publish.bind(pubsub),
      close: pubsub.close.bind(pubsub),
      subscribe: (channel: string, listener: Parameters<InProcessPubSub["subscribe"]>[1]) =>
        new Promise<() => Promise<void>>((resolve) => {
          confirm = () =>
            pubsub.subscribe(channel, listener).then((unsubscribe) => {
              subscribed += 1;
              resolve(unsubscribe);
            });
        }),
    };
    const guard = guarded(new MemoryBackend());
    const received: unknown[] = [];
    await expect(guard.guardPubSub(slow).subscribe("ch", (m) => received.push(m))).rejects.toMatchObject({ code: "unavailable" });
    await confirm?.();
    expect(subscribed).toBe(1);
    await waitUntil(() => pubsub.channelCount === 0, "the late subscription to be undone");
    await pubsub.publish("ch", { docId: "d", revision: 1, op: [] });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(received).toEqual([]);
  });

  it("refuses a deadline that is not a positive number", () => {
    expect(() => new BackendGuard(new MemoryBackend(), { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
