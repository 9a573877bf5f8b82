import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { RedisAdapter } from "@open-ot/adapter-redis";
import { Hub, MemoryBackend, Server, type IBackendAdapter } from "@open-ot/server";
import { createSseHandler } from "@open-ot/transport-http-sse/server";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import { Histogram } from "../histogram.js";
import { wallClock } from "../drivers/edit-generator.js";
import { FRAME_HOLD_ENV } from "./server-env.js";
import { createTextDocuments, type ServerUnderTest } from "./server-under-test.js";

/** How the OpenOT server under test is put together. */
export interface OpenOtServerConfig {
  /**
   * `memory`: MemoryBackend (one instance); `redis`: RedisAdapter at `redisUrl`; `redis-cluster`:
   * RedisAdapter on the Redis Cluster of `redisSeeds` (any number of instances on either).
   */
  readonly backend: "memory" | "redis" | "redis-cluster";
  /** Redis URL for the `redis` backend. */
  readonly redisUrl?: string;
  /** Seed nodes for the `redis-cluster` backend. */
  readonly redisSeeds?: readonly { readonly host: string; readonly port: number }[];
  /** Port to listen on (a restarted instance takes its old port). @default 0 (a free port) */
  readonly port?: number;
}

/**
 * Our server as a deployment would run it: `Server` + `Hub` + the WebSocket binding (`/ws`) and
 * the SSE binding (`/events`, `/messages`) on one node:http server, with the in-memory backend
 * or Redis. The bench turns off the WebSocket per-connection rate limit (its clients submit as
 * fast as acks come back, far beyond the default 100 messages/s), the connection caps (every
 * bench client comes from 127.0.0.1, and the idle scenario holds tens of thousands) and the
 * document size limit (the large-document scenario edits a 1 MB document), and leaves every
 * other option at its default. The attack scenario runs its own, default server.
 *
 * Commit cost is measured here, around `Server.submitOperation` (from the call to the commit's
 * resolution: transform, validation, apply and the backend's commit), so that it can be told
 * apart from delivery cost.
 */
export async function startOpenOtServer(config: OpenOtServerConfig): Promise<ServerUnderTest> {
  let backend: IBackendAdapter;
  let closeBackend: () => Promise<void>;
  if (config.backend === "redis" || config.backend === "redis-cluster") {
    if (config.backend === "redis" && config.redisUrl === undefined) throw new Error("the redis backend needs redisUrl");
    if (config.backend === "redis-cluster" && (config.redisSeeds ?? []).length === 0)
      throw new Error("the redis-cluster backend needs redisSeeds");
    const redis = config.backend === "redis" ? new RedisAdapter(config.redisUrl) : new RedisAdapter(config.redisSeeds ?? []);
    backend = redis;
    closeBackend = () => redis.close();
  } else {
    backend = new MemoryBackend();
    closeBackend = () => Promise.resolve();
  }
  const server = new Server(backend, { maxDocumentSize: Infinity });
  const commitTimes = new Histogram();
  const submit = server.submitOperation.bind(server);
  server.submitOperation = (async (...args: Parameters<typeof submit>) => {
    const started = performance.now();
    try {
      return await submit(...args);
    } finally {
      commitTimes.record(performance.now() - started);
    }
  }) as typeof server.submitOperation;

  const hold = process.env[FRAME_HOLD_ENV];
  const hub = new Hub({ server, ...(hold === undefined ? {} : { frameHoldMs: Number(hold) }) });
  const http = createServer();
  const uncapped = { maxConnections: Infinity, maxConnectionsPerAddress: Infinity } as const;
  const sse = createSseHandler({ hub, ...uncapped });
  http.on("request", (req, res) => {
    if (!sse(req, res)) res.writeHead(404).end();
  });
  const ws = attachWebSocketServer({ hub, server: http, rateLimit: false, ...uncapped });
  // Counted beside the binding's own listener, which alone answers the request.
  let upgrades: number[] = [];
  let pendingStep: string | undefined;
  const countUpgrade = (): void => {
    upgrades.push(wallClock());
  };
  http.on("upgrade", countUpgrade);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port ?? 0, "127.0.0.1", () => resolve());
  });

  return {
    port: (http.address() as AddressInfo).port,
    createDocuments: (ids, text) => createTextDocuments(backend, ids, text),
    documentText: async (docId) => {
      const record = await backend.getRecord(docId);
      return record.data as string;
    },
    connectionCount: () => ws.connectionCount + sse.sessionCount,
    extraStats: () => ({ commit: commitTimes.toJSON(), upgrades }),
    resetExtraStats: () => {
      commitTimes.reset();
      upgrades = [];
    },
    close: async () => {
      const steps: Record<string, number> = {};
      const step = async (name: string, run: () => Promise<unknown>): Promise<void> => {
        const started = performance.now();
        pendingStep = name;
        await run();
        steps[name] = performance.now() - started;
      };
      // The counter goes first: once the binding has released its `upgrade` listener, a
      // request that found only this one would never be answered (Node leaves an upgrade to its
      // listeners), and `http.close()` would wait for that socket forever.
      http.off("upgrade", countUpgrade);
      await step("bindings", () => Promise.all([ws.close(), sse.close()]));
      await step("hub", () => hub.close());
      http.closeAllConnections();
      await step("http", () => new Promise<void>((resolve) => http.close(() => resolve())));
      await step("backend", closeBackend);
      pendingStep = undefined;
      return steps;
    },
    closingStep: () => pendingStep,
  };
}
