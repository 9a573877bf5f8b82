// The backend, lineage, group commit and pub/sub contract suites (shared with the Redis adapter) against the in-memory
// reference implementations.
import { describeBackendContract, type BackendContractFactory } from "../src/backend-contract.js";
import { describeGroupCommitContract } from "../src/group-commit-contract.js";
import { describeLineageContract } from "../src/lineage-contract.js";
import { describePubSubContract } from "../src/pubsub-contract.js";
import { InProcessPubSub, MemoryBackend } from "@open-ot/server";

const memory: BackendContractFactory = async ({ historyLimit }) => {
  const backend = new MemoryBackend({ groupCommit: true, ...(historyLimit === undefined ? {} : { historyLimit }) });
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
describeGroupCommitContract("MemoryBackend", memory);

describePubSubContract("InProcessPubSub", async () => {
  const pubsub = new InProcessPubSub();
  return { publisher: pubsub, subscriber: pubsub, cleanup: () => pubsub.close() };
});
