import { describe, expect, it } from "vitest";
import { settle, waitUntil } from "@open-ot/harness";
import { documentChannel, type PubSub } from "./backend.js";
import { InProcessPubSub } from "./in-process-pub-sub.js";
import { MemoryBackend } from "./memory-backend.js";
import { SequencerPool } from "./sequencer-pool.js";

describe("SequencerPool", () => {
  it("catches up only the documents of the channels a resubscribe names, and every one when it names none", async () => {
    const backend = new MemoryBackend();
    const lineageReads: string[] = [];
    const getLineage = backend.getLineage.bind(backend);
    backend.getLineage = async (docId) => {
      lineageReads.push(docId);
      return await getLineage(docId);
    };
    const inner = new InProcessPubSub();
    let resubscribed: ((channels?: readonly string[]) => void) | undefined;
    const pubsub: PubSub = {
      publish: inner.publish.bind(inner),
      subscribe: inner.subscribe.bind(inner),
      close: inner.close.bind(inner),
      onResubscribe: (listener) => {
        resubscribed = listener;
        return () => undefined;
      },
    };
    const pool = new SequencerPool({ backend, pubsub });
    for (const docId of ["a", "b"]) {
      await backend.createDocument(docId, "text", "");
      await pool.acquire(docId);
    }
    lineageReads.length = 0;

    resubscribed?.([documentChannel("a")]);
    await waitUntil(() => lineageReads.includes("a"), "document a to catch up");
    await settle(5);
    expect(lineageReads).toEqual(["a"]);

    resubscribed?.();
    await waitUntil(() => lineageReads.includes("b"), "document b to catch up");
    await pool.close();
    await inner.close();
  });
});
