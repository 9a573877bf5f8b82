// Redis goes away behind a TCP proxy, which keeps accepting connections and closes them at once
// while Redis is down. ioredis (without a ready check, as the subscriber runs) could then report
// a closed connection ready and never reconnect: the subscriptions went silent for good.
import { afterEach, expect, it } from "vitest";
import { startFaultProxy, startRedisServer, waitUntil, type FaultProxy, type RedisServer } from "@open-ot/harness";
import { RedisAdapter } from "../src/index.js";

let redis: RedisServer | undefined;
let proxy: FaultProxy | undefined;
const adapters: RedisAdapter[] = [];

afterEach(async () => {
  for (const adapter of adapters.splice(0)) await adapter.close();
  await proxy?.close();
  await redis?.stop();
});

it("resubscribes and keeps delivering, old and new channels alike, after Redis behind a proxy was killed and restarted", async () => {
  redis = await startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
  proxy = await startFaultProxy({ target: { port: redis.port } });
  const subscriber = new RedisAdapter(`redis://127.0.0.1:${proxy.port}`);
  const publisher = new RedisAdapter(redis.url);
  adapters.push(subscriber, publisher);
  const got: number[] = [];
  let resubscribed = 0;
  subscriber.onResubscribe(() => resubscribed++);
  await subscriber.subscribe("ch", (notice) => got.push(notice.revision));
  await publisher.publish("ch", { docId: "d", revision: 1, op: [] });
  await waitUntil(() => got.length === 1, "the first message");

  await redis.kill("SIGKILL");
  // Long enough for the subscriber to reconnect to the proxy (and be closed by it) a few times.
  await new Promise((resolve) => setTimeout(resolve, 600));
  await redis.start();
  await waitUntil(() => resubscribed > 0, "the subscriber to resubscribe", 10_000);
  await waitUntil(
    () =>
      publisher.publish("ch", { docId: "d", revision: 2, op: [] }).then(
        () => true,
        () => false,
      ),
    "a publish",
    10_000,
  );
  await waitUntil(() => got.includes(2), "a message published after the restart", 5_000);
  const later: number[] = [];
  await subscriber.subscribe("later", (notice) => later.push(notice.revision));
  await publisher.publish("later", { docId: "d", revision: 3, op: [] });
  await waitUntil(() => later.length === 1, "a message on a channel subscribed after the restart", 5_000);
  expect(got).toEqual([1, 2]);
}, 30_000);
