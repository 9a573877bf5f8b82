// The backend and pub/sub contract suites (shared with the Redis adapter) against the in-memory
// reference implementations. Imported by path: @open-ot/testing depends on this package.
import { describeBackendContract } from "../../testing/src/backend-contract.js";
import { describePubSubContract } from "../../testing/src/pubsub-contract.js";
import { InProcessPubSub } from "../src/in-process-pub-sub.js";
import { MemoryBackend } from "../src/memory-backend.js";

describeBackendContract("MemoryBackend", async ({ historyLimit }) => {
  const backend = new MemoryBackend(historyLimit === undefined ? {} : { historyLimit });
  return {
    backend,
    pubsub: backend.pubsub,
    cleanup: async () => {
      await backend.close();
      await backend.pubsub.close();
    },
  };
});

describePubSubContract("InProcessPubSub", async () => {
  const pubsub = new InProcessPubSub();
  return { publisher: pubsub, subscriber: pubsub, cleanup: () => pubsub.close() };
});
