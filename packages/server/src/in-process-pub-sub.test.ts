import { describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";
import type { CommitNotice } from "./backend.js";
import { InProcessPubSub } from "./in-process-pub-sub.js";

// The PubSub contract suite runs against InProcessPubSub in test/contracts.test.ts; these are
// its test hooks and lifecycle.
const notice = (revision: number): CommitNotice => ({ docId: "d", revision, op: [] });

describe("InProcessPubSub", () => {
  it("drops exactly the messages dropIf selects", async () => {
    const pubsub = new InProcessPubSub({ dropIf: (channel, m) => channel === "c" && m.revision % 2 === 0 });
    const got: number[] = [];
    await pubsub.subscribe("c", (m) => got.push(m.revision));
    for (let r = 1; r <= 6; r++) await pubsub.publish("c", notice(r));
    await waitUntil(() => got.length === 3, "the odd revisions");
    expect(got).toEqual([1, 3, 5]);
  });

  it("simulateResubscribe loses queued messages and then tells every resubscribe listener", async () => {
    const pubsub = new InProcessPubSub();
    const got: number[] = [];
    let resubscribed = 0;
    await pubsub.subscribe("c", (m) => got.push(m.revision));
    const stop = pubsub.onResubscribe(() => (resubscribed += 1));
    pubsub.publishNow("c", notice(1)); // queued, not yet delivered
    pubsub.simulateResubscribe();
    await waitUntil(() => resubscribed === 1, "the resubscribe signal");
    await pubsub.publish("c", notice(2));
    await waitUntil(() => got.length === 1, "the message after the resubscribe");
    expect(got).toEqual([2]);
    stop();
    pubsub.simulateResubscribe();
    await pubsub.publish("c", notice(3));
    await waitUntil(() => got.length === 2, "the next message");
    expect(resubscribed).toBe(1);
  });

  it("keeps publish order when a listener publishes while being delivered to", async () => {
    const pubsub = new InProcessPubSub();
    const got: string[] = [];
    await pubsub.subscribe("a", (m) => {
      got.push(`a${m.revision}`);
      if (m.revision === 1) pubsub.publishNow("b", notice(10));
    });
    await pubsub.subscribe("b", (m) => got.push(`b${m.revision}`));
    pubsub.publishNow("a", notice(1));
    pubsub.publishNow("a", notice(2));
    await waitUntil(() => got.length === 3, "three deliveries");
    expect(got).toEqual(["a1", "a2", "b10"]);
  });

  it("reports a throwing listener to the logger", async () => {
    const errors: string[] = [];
    const pubsub = new InProcessPubSub({ logger: { error: (message) => errors.push(message) } });
    await pubsub.subscribe("c", () => {
      throw new Error("boom");
    });
    await pubsub.publish("c", notice(1));
    await waitUntil(() => errors.length === 1, "the logged error");
  });

  it("fails loudly after close", async () => {
    const pubsub = new InProcessPubSub();
    await pubsub.subscribe("c", () => undefined);
    expect(pubsub.channelCount).toBe(1);
    await pubsub.close();
    expect(pubsub.closed).toBe(true);
    expect(pubsub.channelCount).toBe(0);
    await expect(pubsub.publish("c", notice(1))).rejects.toThrow(/after close/);
    await expect(pubsub.subscribe("c", () => undefined)).rejects.toThrow(/after close/);
  });
});
