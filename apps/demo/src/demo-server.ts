import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { RedisAdapter } from "@open-ot/adapter-redis";
import { isValidDocId, TextType, type OTType } from "@open-ot/core";
import { JsonType } from "@open-ot/json";
import { createPrometheusMetrics } from "@open-ot/metrics";
import {
  createConnectionPolicy,
  DocumentExistsError,
  DocumentNotFoundError,
  Hub,
  MemoryBackend,
  parseRequestTarget,
  Server,
  silentLogger,
  type IBackendAdapter,
  type Logger,
  type PubSub,
} from "@open-ot/server";
import { createSseHandler } from "@open-ot/transport-http-sse/server";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import type { DemoConfig, RedisClusterSeed } from "./demo-config.js";
import { PresenceCounter } from "./presence-counter.js";
import { loadStaticSite } from "./static-site.js";

/** A running demo server; see {@link startDemoServer}. */
export interface DemoServer {
  /** `http://<host>:<port>`, the page's address (with `localhost` for an address bound on every interface). */
  readonly url: string;
  /** The port it listens on (the chosen one when the config said 0). */
  readonly port: number;
  /** Where documents live. */
  readonly backend: "memory" | "redis";
  /** Open WebSocket and SSE connections. */
  readonly connectionCount: number;
  /**
   * Shut down gracefully: stop accepting connections, close every WebSocket and SSE client
   * with 1001 (they reconnect, to another instance if they know one), let the hub finish, close
   * the backend. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** Options of {@link startDemoServer} that are not user settings. */
export interface DemoServerOptions {
  /** Where the server reports problems. @default silent */
  readonly logger?: Logger;
}

/** The document types the demo serves: text (every document created on join) and JSON (the to-do list). */
const TYPES: readonly OTType<unknown, unknown>[] = [TextType, JsonType];

/** The to-do page's JSON document, created at start (joins create text documents). */
export const TODO_DOC = "todo";

/** How long a Redis backend may take to answer at start before the demo gives up. */
const REDIS_START_TIMEOUT_MS = 5_000;

/**
 * Start the demo on one port (node:http): the WebSocket endpoints `/ws` and `/`, the SSE
 * endpoints `/events` and `/messages` (any instance takes any session's POSTs), the editor page
 * at `/` (and a shared to-do list at `/todo.html`, the JSON document {@link TODO_DOC}), `GET /healthz`, `GET /metrics` (Prometheus) and `GET /stats?doc=ID`. Documents are text and created on their first join. With
 * `config.redisUrl` (or `config.redisCluster`) the documents live in Redis (backend and
 * pub/sub), so several instances can serve the same documents; otherwise in memory.
 *
 * Rejects when the port is taken or Redis does not answer, with a message that says so.
 */
export async function startDemoServer(config: DemoConfig, options: DemoServerOptions = {}): Promise<DemoServer> {
  const logger = options.logger ?? silentLogger;
  const publicDir = config.publicDir ?? fileURLToPath(new URL("../dist/public/", import.meta.url));
  const site = await loadStaticSite(publicDir, config.defaultDoc);
  if (!site.built)
    logger.warn?.(`The editor page is missing from ${publicDir}: build the demo (pnpm demo builds it). The endpoints work without it.`);

  const redis = config.redisCluster ?? config.redisUrl;
  const storage = redis === undefined ? memoryStorage(config) : await redisStorage(redis, config, logger);
  // Prometheus metrics of this instance at /metrics, with the process's own (CPU, memory, event loop).
  const metrics = createPrometheusMetrics({ defaultMetrics: true });
  const server = new Server(storage.backend, { logger, metrics, backendTimeoutMs: config.storageTimeoutMs, types: [...TYPES] });
  try {
    await server.createDocument(TODO_DOC, JsonType.name, { items: [] });
  } catch (error) {
    // Another instance on the same Redis may have created it first.
    if (!(error instanceof DocumentExistsError)) {
      server.guard.close();
      await storage.close();
      throw error;
    }
  }
  const hub = new Hub({
    server,
    pubsub: storage.pubsub,
    createOnJoin: true,
    // Documents are created by whoever joins them: without a cap, one visitor could create
    // documents until memory (or Redis) runs out.
    maxCreatedDocuments: config.maxDocuments,
    defaultDocId: config.defaultDoc,
    logger,
  });
  const presence = new PresenceCounter();
  const presenceHub = presence.wrap(hub);

  const http = createServer();
  // 0 turns the limit off: useful for load tests against the demo.
  const limited = config.rateLimit > 0;
  // One policy for both transports: a client's WebSocket and SSE connections count together
  // against its address.
  const policy = createConnectionPolicy({
    maxMessageBytes: config.maxMessageSize,
    rateLimit: limited ? { messagesPerSecond: config.rateLimit, burst: config.rateBurst } : false,
    // The demo has no authentication, so limiting origins would protect nothing; "*" lets a
    // page on one instance use another instance (?servers=...).
    allowedOrigins: "*",
    logger,
  });
  const ws = attachWebSocketServer({ hub: presenceHub, server: http, defaultDocId: config.defaultDoc, policy, logger });
  // Any instance takes any SSE session's POSTs (docs/deploying.md): a balancer in front of
  // several instances needs no sticky sessions for them.
  const sse = createSseHandler({ hub: presenceHub, policy, logger, sharedSessions: { pubsub: storage.pubsub } });

  /**
   * 200 while the storage answers, 503 while it does not (within the storage deadline), so that
   * a load balancer routes around an instance that cannot save; the page shows it too.
   */
  const answerHealth = async (res: ServerResponse): Promise<void> => {
    const health = await server.checkHealth();
    // Read by pages of other instances (?servers=...), hence CORS; it holds no secret.
    res.setHeader("Access-Control-Allow-Origin", "*");
    sendJson(res, health.reachable ? 200 : 503, {
      ok: health.reachable,
      backend: storage.kind,
      storage: health.reachable ? "reachable" : "unreachable",
      since: new Date(health.since).toISOString(),
      ...(health.reachable || health.lastError === undefined ? {} : { error: health.lastError }),
      connections: ws.connectionCount + sse.sessionCount,
    });
  };

  http.on("request", (req: IncomingMessage, res: ServerResponse) => {
    // Any request target a client can send must be answered, never thrown on: new URL() throws
    // on "//" and reads "//ws" as a host.
    const url = parseRequestTarget(req.url);
    if (url === undefined) {
      sendJson(res, 400, { type: "error", code: "bad_message", message: "The request target must be a path starting with a single /." });
      return;
    }
    if (url.pathname === "/healthz") {
      void answerHealth(res);
      return;
    }
    if (url.pathname === "/stats") {
      const docId = url.query.get("doc") ?? config.defaultDoc;
      if (!isValidDocId(docId)) {
        sendJson(res, 400, {
          type: "error",
          code: "bad_message",
          message: "?doc= must be a document id: 1 to 256 characters from A-Z a-z 0-9 . _ ~ : -",
        });
        return;
      }
      // Read by pages of other instances (?servers=...), hence CORS; it holds no secret.
      res.setHeader("Access-Control-Allow-Origin", "*");
      sendJson(res, 200, { docId, connections: presence.count(docId) });
      return;
    }
    if (metrics.handler(req, res)) return;
    if (sse(req, res)) return;
    if (site.handle(req, res)) return;
    sendJson(res, 404, {
      type: "error",
      code: "not_found",
      message: `Nothing at ${url.pathname.slice(0, 100)}: the page is at /, WebSockets at /ws, SSE at /events and /messages, metrics at /metrics.`,
    });
  });

  try {
    await listen(http, config.port, config.host);
  } catch (error) {
    await ws.close();
    await sse.close();
    await hub.close();
    await storage.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new Error(`Port ${config.port} is in use on ${config.host}: stop what uses it, or pass --port (or PORT) with another.`, {
        cause: error,
      });
    throw error;
  }
  const port = (http.address() as AddressInfo).port;
  const shownHost =
    config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;

  // Lifecycle: serving -> closing (the promise every close() call shares).
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    backend: storage.kind,
    get connectionCount() {
      return ws.connectionCount + sse.sessionCount;
    },
    close() {
      closing ??= (async () => {
        // Stop listening first, so that clients told to go away (1001) reconnect elsewhere
        // instead of back here.
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        await Promise.all([ws.close(), sse.close()]);
        await hub.close();
        // Idle keep-alive connections (page and stats requests) would hold close() open.
        http.closeAllConnections();
        await stopped;
        server.guard.close();
        await storage.close();
      })();
      return closing;
    },
  };
}

interface Storage {
  readonly kind: "memory" | "redis";
  readonly backend: IBackendAdapter;
  readonly pubsub: PubSub;
  close(): Promise<void>;
}

function memoryStorage(config: DemoConfig): Storage {
  const backend = new MemoryBackend({ historyLimit: config.historyLimit, types: [...TYPES] });
  return {
    kind: "memory",
    backend,
    pubsub: backend.pubsub,
    async close() {
      await backend.close();
      await backend.pubsub.close();
    },
  };
}

async function redisStorage(connection: string | readonly RedisClusterSeed[], config: DemoConfig, logger: Logger): Promise<Storage> {
  const adapter = new RedisAdapter(connection, { historyLimit: config.historyLimit, logger, types: TYPES });
  // Ask once at start, so that a wrong REDIS_URL fails here with a clear message rather than
  // at the first join.
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      adapter.getRevision(config.defaultDoc).catch((error: unknown) => {
        if (!(error instanceof DocumentNotFoundError)) throw error;
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_START_TIMEOUT_MS} ms`)), REDIS_START_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    await adapter.close();
    throw new Error(
      `Cannot use ${where(connection)}: ${error instanceof Error ? error.message : String(error)}. ${
        typeof connection === "string"
          ? "Start redis-server there, or fix REDIS_URL (or --redis)."
          : "Start the cluster, or fix REDIS_CLUSTER (or --redis-cluster)."
      }`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
  return { kind: "redis", backend: adapter, pubsub: adapter, close: () => adapter.close() };
}

/** The URL without its password, for messages. */
/** The Redis or Redis Cluster a connection names, for messages (without a password). */
function where(connection: string | readonly RedisClusterSeed[]): string {
  return typeof connection === "string"
    ? `Redis at ${redactUrl(connection)}`
    : `the Redis Cluster at ${connection.map((seed) => `${seed.host}:${seed.port}`).join(",")}`;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

async function listen(http: HttpServer, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    http.once("error", onError);
    http.listen(port, host, () => {
      http.off("error", onError);
      resolve();
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}
