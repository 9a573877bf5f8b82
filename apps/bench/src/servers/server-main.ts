/**
 * A server child process of the bench: starts one server under test (OpenOT, ShareDB or the
 * raw relay, alone or over Redis) on 127.0.0.1 and answers the parent's requests for documents, process figures and
 * shutdown. Run with `--expose-gc` so that memory is read after a full collection.
 */
import { emitToParent, serveParent } from "../ipc.js";
import type { OpenOtServerConfig } from "./openot-server.js";
import { ProcessStats } from "./process-stats.js";
import type { RedisRelayServerConfig } from "./redis-relay-server.js";
import type { ServerUnderTest } from "./server-under-test.js";

/** What the parent passes (as JSON in argv[2]). */
export type ServerConfig =
  | ({ readonly kind: "openot" } & OpenOtServerConfig)
  | { readonly kind: "openot-defended" }
  | { readonly kind: "sharedb" }
  | { readonly kind: "relay" }
  | ({ readonly kind: "relay-redis" } & RedisRelayServerConfig);

/** The `ready` event's payload. */
export interface ServerReady {
  readonly port: number;
  readonly pid: number;
}

// Each process loads only the system it runs, so a ShareDB process holds no OpenOT code and
// the reverse, and memory figures are not blurred by modules another system needs.
async function start(config: ServerConfig): Promise<ServerUnderTest & { socketCount?(): Promise<number> }> {
  switch (config.kind) {
    case "openot":
      return (await import("./openot-server.js")).startOpenOtServer(config);
    case "openot-defended":
      return (await import("./defended-server.js")).startDefendedServer();
    case "sharedb":
      return (await import("./sharedb-server.js")).startShareDbServer();
    case "relay":
      return (await import("./relay-server.js")).startRelayServer();
    case "relay-redis":
      return (await import("./redis-relay-server.js")).startRedisRelayServer(config);
  }
}

const config = JSON.parse(process.argv[2] ?? "{}") as ServerConfig;
const stats = new ProcessStats();
const server = await start(config);
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- what ServerUnderTest.close() resolves to
let closing: Promise<void | Record<string, number>> | undefined;

serveParent({
  createDocuments: (params: { ids: string[]; text: string }) => server.createDocuments(params.ids, params.text),
  documentText: (params: { docId: string }) => server.documentText(params.docId),
  connectionCount: () => server.connectionCount(),
  windowStart: () => {
    stats.resetWindow();
    server.resetExtraStats();
  },
  windowStats: () => ({ ...stats.window(), ...server.extraStats() }),
  memory: () => stats.memoryAfterGc(),
  // The most resident memory the process ever held, in bytes (the kernel's high-water mark).
  peakRss: () => process.resourceUsage().maxRSS * 1024,
  socketCount: () => server.socketCount?.() ?? Promise.resolve(Number.NaN),
  close: () => (closing ??= server.close()),
  closingStep: () => server.closingStep?.(),
  stop: async () => {
    await (closing ??= server.close());
  },
});

emitToParent("ready", { port: server.port, pid: process.pid } satisfies ServerReady);
