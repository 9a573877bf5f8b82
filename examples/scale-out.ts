import http from "node:http";
import { RedisAdapter } from "@open-ot/adapter-redis";
import { createPrometheusMetrics } from "@open-ot/metrics";
import { Hub, Server } from "@open-ot/server";
import { createSseHandler } from "@open-ot/transport-http-sse/server";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";

// One instance of many: run the same program on every machine, all on one Redis.
const redis = new RedisAdapter("redis://127.0.0.1:6379");
const metrics = createPrometheusMetrics({ defaultMetrics: true });
// The hub and the bindings report to the server's metrics.
const hub = new Hub({ server: new Server(redis, { metrics }), createOnJoin: true });
// Any instance takes any SSE session's POSTs: the balancer needs no sticky sessions for them.
const sse = createSseHandler({ hub, sharedSessions: { pubsub: redis } });
const httpServer = http.createServer((req, res) => {
  if (metrics.handler(req, res)) return; // GET /metrics, for Prometheus
  if (!sse(req, res)) res.writeHead(404).end();
});
const ws = attachWebSocketServer({ hub, server: httpServer });
await new Promise<void>((resolve) => httpServer.listen(3000, "127.0.0.1", resolve));

const scraped = await (await fetch("http://127.0.0.1:3000/metrics")).text();
console.log(scraped.includes("openot_ops_committed_total 0")); // true

// On SIGTERM: stop taking connections, tell clients to go elsewhere (1001), then let go of Redis.
await ws.close();
await sse.close();
await hub.close();
httpServer.close();
await redis.close();
