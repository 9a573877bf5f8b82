import { parseArgs } from "node:util";
import { isValidDocId } from "@open-ot/core";

/** Everything the demo server needs to start; see {@link parseDemoConfig} for where each value comes from. */
export interface DemoConfig {
  /** TCP port to listen on; 0 picks a free one. @default 3000 */
  readonly port: number;
  /** Address to bind. `0.0.0.0` lets other machines on the network join. @default "127.0.0.1" */
  readonly host: string;
  /** Redis URL; when set, documents live in Redis and instances share them. @default undefined (in-memory) */
  readonly redisUrl: string | undefined;
  /**
   * Seed nodes of a Redis Cluster (`host:port`, any of its nodes); when set, documents live on
   * the cluster, shared by every instance using it. Not with `redisUrl`. @default undefined
   */
  readonly redisCluster: readonly RedisClusterSeed[] | undefined;
  /** The document clients join when they name none (root-path WebSocket clients, the page without `?doc=`). @default "doc-1" */
  readonly defaultDoc: string;
  /** Largest message (WebSocket frame or POST body) in bytes. @default 1048576 */
  readonly maxMessageSize: number;
  /** Messages per second each connection may send; 0 turns the limit off. @default 100 */
  readonly rateLimit: number;
  /** Messages a connection may send in one burst above `rateLimit`. @default 1000 */
  readonly rateBurst: number;
  /** Ops kept per document for resuming clients; older resumes get a snapshot. @default 1000 */
  readonly historyLimit: number;
  /**
   * Deadline of every storage call in milliseconds: a store that does not answer in time is
   * answered `unavailable` (clients retry) and `/healthz` says 503 until it answers again.
   * @default 5000
   */
  readonly storageTimeoutMs: number;
  /**
   * Documents this instance creates on join, at most; joins of further unknown documents are
   * refused with `not_found`. Bounds the memory (or Redis keys) visitors can make it hold.
   * @default 10000
   */
  readonly maxDocuments: number;
  /** Folder holding the editor page (index.html, editor.js). @default undefined (the build's dist/public) */
  readonly publicDir: string | undefined;
  /** Log every connection and request failure, not only errors. @default false */
  readonly verbose: boolean;
}

/** One seed node of a Redis Cluster. */
export interface RedisClusterSeed {
  readonly host: string;
  readonly port: number;
}

/** What the command line asked for: run with a config, or print help. */
export type DemoCommand = { readonly kind: "run"; readonly config: DemoConfig } | { readonly kind: "help"; readonly text: string };

/** Thrown for a flag or environment variable the demo cannot use; the message says which and what to write instead. */
export class DemoConfigError extends Error {
  override readonly name = "DemoConfigError";
}

/** The defaults, for documentation and tests. */
export const DEMO_DEFAULTS: DemoConfig = {
  port: 3000,
  host: "127.0.0.1",
  redisUrl: undefined,
  redisCluster: undefined,
  defaultDoc: "doc-1",
  maxMessageSize: 1024 * 1024,
  rateLimit: 100,
  rateBurst: 1000,
  historyLimit: 1000,
  storageTimeoutMs: 5000,
  maxDocuments: 10_000,
  publicDir: undefined,
  verbose: false,
};

/** One setting: its flag, the environment variable behind it, and its help line. */
interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
}

const SETTINGS = {
  port: { flag: "port", env: "PORT", help: "TCP port to listen on (0: any free port)" },
  host: { flag: "host", env: "HOST", help: "address to bind; 0.0.0.0 to let other machines join" },
  redisUrl: { flag: "redis", env: "REDIS_URL", help: "Redis URL; documents live in Redis, shared by every instance using it" },
  redisCluster: {
    flag: "redis-cluster",
    env: "REDIS_CLUSTER",
    help: "Redis Cluster seed nodes, host:port,host:port; documents live on the cluster",
  },
  defaultDoc: { flag: "doc", env: "DEMO_DOC", help: "document opened when the page or a client names none" },
  maxMessageSize: { flag: "max-message-size", env: "MAX_MESSAGE_SIZE", help: "largest message in bytes (WebSocket frame or POST body)" },
  rateLimit: { flag: "rate-limit", env: "RATE_LIMIT", help: "messages per second per connection (0: no limit)" },
  rateBurst: { flag: "rate-burst", env: "RATE_BURST", help: "messages a connection may send at once above the rate" },
  historyLimit: { flag: "history", env: "HISTORY_LIMIT", help: "ops kept per document for resuming clients" },
  storageTimeoutMs: {
    flag: "storage-timeout",
    env: "STORAGE_TIMEOUT_MS",
    help: "ms a storage call may take before clients are told to retry",
  },
  maxDocuments: { flag: "max-documents", env: "MAX_DOCUMENTS", help: "documents this instance creates on join, at most" },
  publicDir: { flag: "public-dir", env: "PUBLIC_DIR", help: "folder with the editor page (default: the build's dist/public)" },
} as const satisfies Record<Exclude<keyof DemoConfig, "verbose">, Setting>;

/** The `--help` text. */
export function demoHelpText(command = "node dist/main.js"): string {
  const rows = (Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]).map((key) => {
    const s = SETTINGS[key];
    const fallback = DEMO_DEFAULTS[key];
    const shown = fallback === undefined || typeof fallback === "object" ? "" : ` [default: ${String(fallback)}]`;
    return `  --${s.flag.padEnd(18)} ${s.env.padEnd(17)} ${s.help}${shown}`;
  });
  return [
    `Usage: ${command} [options]`,
    "",
    "OpenOT demo server: a collaborative text editor on one port, over WebSocket (/ws, /) and",
    "Server-Sent Events (/events + /messages). Open the printed URL in two browser windows.",
    "",
    "Options (flag, environment variable, meaning); a flag wins over its variable:",
    ...rows,
    `  --${"verbose".padEnd(18)} ${"".padEnd(17)} log connections and refused requests, not only errors`,
    `  --${"help".padEnd(18)} ${"".padEnd(17)} print this help`,
    "",
    "Page URL parameters: ?doc=NAME  ?transport=ws|sse  ?servers=URL1,URL2 (fail over between instances)",
  ].join("\n");
}

/**
 * Read the demo's settings from command-line flags, falling back to environment variables, then
 * to {@link DEMO_DEFAULTS}. Throws {@link DemoConfigError} for anything it cannot use (an unknown
 * flag, a port that is not a number, an invalid document id...), naming the flag or variable.
 *
 * @param argv the arguments after the script name (`process.argv.slice(2)`)
 * @param env the environment (`process.env`)
 */
export function parseDemoConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): DemoCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" }, verbose: { type: "boolean" } };
    for (const s of Object.values(SETTINGS)) options[s.flag] = { type: "string" };
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new DemoConfigError(`${error instanceof Error ? error.message : String(error)}. Run with --help for the options.`);
  }
  if (values["help"] === true) return { kind: "help", text: demoHelpText() };

  /** The raw text of a setting (flag first, then environment), with where it came from. */
  const raw = (s: Setting): { text: string; from: string } | undefined => {
    const flag = values[s.flag];
    if (typeof flag === "string") return { text: flag, from: `--${s.flag}` };
    const fromEnv = env[s.env];
    // An empty variable (`PORT= npm start`) means "not set", as shells and most tools treat it.
    if (fromEnv !== undefined && fromEnv !== "") return { text: fromEnv, from: s.env };
    return undefined;
  };
  const integer = (s: Setting, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const r = raw(s);
    if (r === undefined) return fallback;
    const n = /^\d+$/.test(r.text.trim()) ? Number(r.text.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new DemoConfigError(`${r.from}=${JSON.stringify(r.text)}: give a whole number from ${min} to ${max}.`);
    }
    return n;
  };

  const redis = raw(SETTINGS.redisUrl);
  if (redis !== undefined && !/^rediss?:\/\//.test(redis.text)) {
    throw new DemoConfigError(
      `${redis.from}=${JSON.stringify(redis.text)}: give a redis:// or rediss:// URL, such as redis://127.0.0.1:6379.`,
    );
  }
  const cluster = raw(SETTINGS.redisCluster);
  if (cluster !== undefined && redis !== undefined) {
    throw new DemoConfigError(`${redis.from} and ${cluster.from} are both set: use one Redis or one Redis Cluster, not both.`);
  }
  const doc = raw(SETTINGS.defaultDoc);
  if (doc !== undefined && !isValidDocId(doc.text)) {
    throw new DemoConfigError(`${doc.from}=${JSON.stringify(doc.text)}: a document id is 1 to 256 characters from A-Z a-z 0-9 . _ ~ : -`);
  }
  const host = raw(SETTINGS.host);
  if (host !== undefined && host.text.trim() === "") throw new DemoConfigError(`${host.from}: give an address to bind, such as 127.0.0.1.`);

  return {
    kind: "run",
    config: {
      port: integer(SETTINGS.port, DEMO_DEFAULTS.port, 0, 65535),
      host: host?.text.trim() ?? DEMO_DEFAULTS.host,
      redisUrl: redis?.text,
      redisCluster: cluster === undefined ? undefined : clusterSeeds(cluster),
      defaultDoc: doc?.text ?? DEMO_DEFAULTS.defaultDoc,
      maxMessageSize: integer(SETTINGS.maxMessageSize, DEMO_DEFAULTS.maxMessageSize, 1024),
      rateLimit: integer(SETTINGS.rateLimit, DEMO_DEFAULTS.rateLimit, 0),
      rateBurst: integer(SETTINGS.rateBurst, DEMO_DEFAULTS.rateBurst, 1),
      historyLimit: integer(SETTINGS.historyLimit, DEMO_DEFAULTS.historyLimit, 1),
      storageTimeoutMs: integer(SETTINGS.storageTimeoutMs, DEMO_DEFAULTS.storageTimeoutMs, 1, 600_000),
      maxDocuments: integer(SETTINGS.maxDocuments, DEMO_DEFAULTS.maxDocuments, 1),
      publicDir: raw(SETTINGS.publicDir)?.text,
      verbose: values["verbose"] === true,
    },
  };
}

/** `host:port,host:port` as seed nodes; throws {@link DemoConfigError} naming the setting for anything else. */
function clusterSeeds(value: { readonly from: string; readonly text: string }): RedisClusterSeed[] {
  return value.text.split(",").map((entry) => {
    const match = /^\s*([^\s:]+):(\d{1,5})\s*$/.exec(entry);
    const port = match === null ? NaN : Number(match[2]);
    if (match === null || port < 1 || port > 65535) {
      throw new DemoConfigError(
        `${value.from}=${JSON.stringify(value.text)}: give the cluster's nodes as host:port separated by commas, such as 127.0.0.1:7000,127.0.0.1:7001.`,
      );
    }
    return { host: match[1]!, port };
  });
}
