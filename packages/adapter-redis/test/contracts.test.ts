// The backend, group commit, lineage and pub/sub contract suites of @open-ot/testing against
// RedisAdapter, each test on a redis-server of its own.
import {
  describeBackendContract,
  describeGroupCommitContract,
  describeLineageContract,
  describePubSubContract,
  type BackendContractFactory,
} from "@open-ot/testing";
import { startRedisServer } from "@open-ot/harness";
import { RedisAdapter, type RedisAdapterOptions } from "../src/index.js";

/**
 * A backend contract setup on a redis-server of its own, the adapter's options made from the
 * history limit a test asks for; commits are observed from a second instance, as another
 * server would see them.
 */
function onRedis(optionsFor: (historyLimit: number | undefined) => RedisAdapterOptions): BackendContractFactory {
  return async ({ historyLimit }) => {
    const redis = await startRedisServer();
    const backend = new RedisAdapter(redis.url, optionsFor(historyLimit));
    const observer = new RedisAdapter(redis.url);
    return {
      backend,
      pubsub: observer,
      async cleanup() {
        await backend.close();
        await observer.close();
        await redis.stop();
      },
    };
  };
}

describeBackendContract(
  "RedisAdapter (defaults)",
  onRedis((historyLimit) => ({ historyLimit: historyLimit ?? Infinity })),
);
// A snapshot every `historyLimit` revisions, so that history is trimmed as soon as there is more.
describeGroupCommitContract(
  "RedisAdapter",
  onRedis((historyLimit) => (historyLimit === undefined ? {} : { historyLimit, snapshotEvery: historyLimit })),
);
describeLineageContract(
  "RedisAdapter",
  onRedis(() => ({})),
);
// A snapshot every 3 revisions and no cache: every load rebuilds from the stored snapshot plus ops.
describeBackendContract(
  "RedisAdapter (snapshotEvery 3, no cache)",
  onRedis((historyLimit) => ({ snapshotEvery: 3, snapshotCacheSize: 0, historyLimit: historyLimit ?? Infinity })),
);

describePubSubContract("RedisAdapter (two instances)", async () => {
  const redis = await startRedisServer();
  const publisher = new RedisAdapter(redis.url);
  const subscriber = new RedisAdapter(redis.url);
  return {
    publisher,
    subscriber,
    async cleanup() {
      await publisher.close();
      await subscriber.close();
      await redis.stop();
    },
  };
});
