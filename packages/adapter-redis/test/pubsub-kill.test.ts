// Redis pub/sub delivers at most once: killing the subscriber connection (CLIENT KILL TYPE pubsub)
// loses whatever is published until it is back. The adapter resubscribes and says so
// (onResubscribe), and the server's sequencer fills the gap from history, so another instance
// still sees every revision, in order.
import { describe, expect, it } from "vitest";
import { documentChannel, type CommitNotice } from "@open-ot/server";
import { SequencerPool } from "../../server/src/sequencer-pool.js";
import { overtakenLineage } from "../../server/test/overtaken-lineage.js";
import { waitUntil } from "@open-ot/harness";
import { RedisAdapter } from "../src/index.js";
import { append, redisPerTest } from "./helpers.js";

const redis = redisPerTest((url, options) => new RedisAdapter(url, options));

/** An adapter whose connections wait `reconnectMs` before reconnecting, so a kill opens a window in which messages are lost. */
function adapter(reconnectMs = 50): RedisAdapter {
  return redis.track(new RedisAdapter({ host: "127.0.0.1", port: redis.server().port, retryStrategy: () => reconnectMs }));
}

describe("CLIENT KILL TYPE pubsub", () => {
  it("resubscribes, then calls onResubscribe, after which messages arrive again", async () => {
    const publisher = adapter();
    const subscriber = adapter(20);
    const channel = documentChannel("doc");
    const heard: number[] = [];
    await subscriber.subscribe(channel, (m) => heard.push(m.revision));
    let resubscribed = 0;
    subscriber.onResubscribe(() => {
      resubscribed += 1;
    });
    const notice = (revision: number): CommitNotice => ({ docId: "doc", revision, op: [] });

    await publisher.publish(channel, notice(1));
    await waitUntil(() => heard.length === 1, "the first message", 10_000);
    expect(await redis.raw().client("KILL", "TYPE", "pubsub")).toBe(1);
    await waitUntil(() => resubscribed === 1, "onResubscribe", 10_000);
    // The subscription is active again by the time the listener is called.
    await publisher.publish(channel, notice(2));
    await waitUntil(() => heard.length === 2, "a message after the resubscribe", 10_000);
    expect(heard).toEqual([1, 2]);
  });

  it("while ops flow, the other instance still delivers every revision once and in order", async () => {
    const writer = adapter();
    // The reader reconnects only after 200 ms, so every kill loses the messages of that window.
    const reader = adapter(200);
    await writer.createDocument("doc", "text", "");

    const pool = new SequencerPool({ backend: reader, pubsub: reader });
    const sequencer = await pool.acquire("doc");
    const delivered: number[] = [];
    sequencer.add({ onCommit: (n) => delivered.push(n.revision) });
    // What actually came over pub/sub, to show that messages were lost.
    const overPubSub: number[] = [];
    await reader.subscribe(documentChannel("doc"), (m) => overPubSub.push(m.revision));

    let resubscribed = 0;
    reader.onResubscribe(() => {
      resubscribed += 1;
    });
    const total = 150;
    let text = "";
    let committed = 0;
    async function commitUpTo(last: number): Promise<void> {
      while (committed < last) {
        const revision = committed + 1;
        const request = append(text, `${revision},`, revision, "writer", revision);
        expect(await writer.commit("doc", request)).toEqual({ status: "committed", revision });
        text = request.snapshot as string;
        committed = revision;
      }
    }
    // Kill the subscriber while ops flow (the ops right after each kill are lost on pub/sub),
    // and at last right before the final ops, which no later message reveals: only the
    // resubscribe catch-up can bring those.
    await commitUpTo(40);
    expect(await redis.raw().client("KILL", "TYPE", "pubsub")).toBe(1);
    await commitUpTo(60);
    await waitUntil(() => resubscribed === 1, "the first resubscribe", 10_000);
    await commitUpTo(100);
    expect(await redis.raw().client("KILL", "TYPE", "pubsub")).toBe(1);
    await commitUpTo(120);
    await waitUntil(() => resubscribed === 2, "the second resubscribe", 10_000);
    await commitUpTo(total - 5);
    expect(await redis.raw().client("KILL", "TYPE", "pubsub")).toBe(1);
    await commitUpTo(total);

    await waitUntil(() => delivered.length >= total, `${total} revisions delivered by the reader's sequencer`, 10_000);
    expect(delivered).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(overPubSub.length).toBeLessThan(total);
    await pool.close();
  });

  it("a commit whose notice beats the catch-up's lineage answer is no sign the document went back", async () => {
    const writer = adapter();
    const reader = adapter(20);
    await writer.createDocument("doc", "text", "");
    let text = "";
    async function commitNext(): Promise<number> {
      const revision = (await writer.getRevision("doc")) + 1;
      const request = append(text, `${revision},`, revision, "writer", revision);
      expect(await writer.commit("doc", request)).toEqual({ status: "committed", revision });
      text = request.snapshot as string;
      return revision;
    }
    // The catch-up's lineage read is overtaken by another instance's commit (see overtakenLineage).
    const overtaken = overtakenLineage(reader, commitNext, () => sequencer.revision);
    const pool = new SequencerPool({ backend: overtaken.backend, pubsub: reader });
    const sequencer = await pool.acquire("doc");
    const delivered: number[] = [];
    const lost: string[] = [];
    sequencer.add({ onCommit: (n) => delivered.push(n.revision), onLost: (reason) => lost.push(reason) });
    await commitNext();
    await waitUntil(() => delivered.length === 1, "revision 1", 10_000);

    overtaken.arm();
    expect(await redis.raw().client("KILL", "TYPE", "pubsub")).toBe(1);
    await waitUntil(() => !overtaken.armed && delivered.length === 2, "the catch-up and revision 2", 10_000);
    await commitNext();
    await waitUntil(() => delivered.length === 3 || lost.length > 0, "revision 3, or the sequencer lost", 10_000);
    expect(lost).toEqual([]);
    expect(sequencer.status).toBe("live");
    expect(delivered).toEqual([1, 2, 3]);
    await pool.close();
  });
});
