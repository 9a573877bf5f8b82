// The backend, lineage and pub/sub contract suites of @open-ot/testing against RedisAdapter on a
// Redis Cluster (three masters, one replica each): scripts run on the document's slot, notices
// go by sharded pub/sub (SPUBLISH/SSUBSCRIBE).
import { describeBackendContract, describeLineageContract, describePubSubContract } from "@open-ot/testing";
import { RedisAdapter } from "../src/index.js";
import { clusterPerFile } from "./helpers.js";

const shared = clusterPerFile((seeds, options) => new RedisAdapter(seeds, options));

/** A backend and, as another server would see its commits, an observer on a second instance. */
function backendAndObserver(historyLimit?: number): { backend: RedisAdapter; pubsub: RedisAdapter; cleanup(): Promise<void> } {
  const backend = new RedisAdapter(shared.cluster().seeds, { historyLimit: historyLimit ?? Infinity });
  const observer = new RedisAdapter(shared.cluster().seeds);
  return {
    backend,
    pubsub: observer,
    async cleanup() {
      await backend.close();
      await observer.close();
    },
  };
}

describeBackendContract("RedisAdapter on a cluster", async ({ historyLimit }) => backendAndObserver(historyLimit));
describeLineageContract("RedisAdapter on a cluster", async () => backendAndObserver());

describePubSubContract("RedisAdapter on a cluster (two instances)", async () => {
  const publisher = new RedisAdapter(shared.cluster().seeds);
  const subscriber = new RedisAdapter(shared.cluster().seeds);
  return {
    publisher,
    subscriber,
    async cleanup() {
      await publisher.close();
      await subscriber.close();
    },
  };
});
