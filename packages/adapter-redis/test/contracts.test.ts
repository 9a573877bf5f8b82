// The backend and pub/sub contract suites of @open-ot/testing against RedisAdapter, each test on
// a redis-server of its own.
import { describeBackendContract, describeLineageContract, describePubSubContract } from "@open-ot/testing";
import { startRedisServer } from "@open-ot/harness";
import { RedisAdapter, type RedisAdapterOptions } from "../src/index.js";

function contractFor(label: string, adapterOptions: RedisAdapterOptions): void {
  describeBackendContract(`RedisAdapter (${label})`, async ({ historyLimit }) => {
    const redis = await startRedisServer();
    const backend = new RedisAdapter(redis.url, { ...adapterOptions, historyLimit: historyLimit ?? Infinity });
    // Commits are observed from a second instance, as another server would see them.
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
  });
}

contractFor("defaults", {});
describeLineageContract("RedisAdapter", async () => {
  const redis = await startRedisServer();
  const backend = new RedisAdapter(redis.url);
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
});
// A snapshot every 3 revisions and no cache: every load rebuilds from the stored snapshot plus ops.
contractFor("snapshotEvery 3, no cache", { snapshotEvery: 3, snapshotCacheSize: 0 });

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
