// The backend and pub/sub contract suites (shared with the Redis adapter) against the in-memory
// reference implementations. Imported by path: @open-ot/testing depends on this package.
import { describeBackendContract, type BackendContractFactory } from "../../testing/src/backend-contract.js";
import { describeLineageContract } from "../../testing/src/lineage-contract.js";
import { describePubSubContract } from "../../testing/src/pubsub-contract.js";
import { InProcessPubSub } from "../src/in-process-pub-sub.js";
import { MemoryBackend } from "../src/memory-backend.js";

const memory: BackendContractFactory = async ({ historyLimit }) => {
  const backend = new MemoryBackend(historyLimit === undefined ? {} : { historyLimit });
  return {
    backend,
    pubsub: backend.pubsub,
    cleanup: async () => {
      await backend.close();
      await backend.pubsub.close();
    },
  };
};

describeBackendContract("MemoryBackend", memory);
describeLineageContract("MemoryBackend", memory);

describePubSubContract("InProcessPubSub", async () => {
  const pubsub = new InProcessPubSub();
  return { publisher: pubsub, subscriber: pubsub, cleanup: () => pubsub.close() };
});
