import { execFile } from "node:child_process";
import { freePort } from "./free-port.js";
import { startRedisServer, type RedisServer } from "./redis-server.js";
import { waitUntil } from "./wait-until.js";

/** Options for {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** How many masters share the 16384 slots. At least 3 (what `redis-cli --cluster create` accepts). @default 3 */
  masters?: number;
  /** How many replicas each master gets. @default 1 */
  replicasPerMaster?: number;
  /**
   * `cluster-node-timeout` in milliseconds: how long a master may be unreachable before its
   * replica takes over (automatic failover after a crash takes about twice this).
   * @default 1000
   */
  nodeTimeoutMs?: number;
  /** Extra redis-server arguments for every node (for example `["--min-replicas-to-write", "1"]`). @default [] */
  args?: readonly string[];
  /** The redis-cli executable. @default process.env.REDIS_CLI_BIN, else "redis-cli" (looked up on PATH) */
  cliBinary?: string;
  /** Bound on starting the nodes, creating the cluster and waiting for it to be healthy. @default 30000 */
  startTimeoutMs?: number;
}

/** A host and port of a cluster node, as ioredis `Cluster` takes its seeds. */
export interface ClusterSeed {
  readonly host: string;
  readonly port: number;
}

/**
 * A Redis Cluster of private redis-server processes for tests (see {@link startRedisCluster}).
 * The nodes are {@link RedisServer}s: a test kills one by PID with `kill()` and stops all with
 * `stop()`.
 */
export interface RedisCluster {
  /** Every node, masters and replicas (their roles change with failovers: ask {@link RedisCluster.masterOf}). */
  readonly nodes: readonly RedisServer[];
  /** Every node as a seed for ioredis `Cluster`. */
  readonly seeds: readonly ClusterSeed[];
  /** Run `redis-cli -p <port> <args...>` and resolve with its output (stdout, trimmed). */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The port of the master serving `slot` now, as the node on `askPort` (default: any running node) sees it. */
  masterOf(slot: number, askPort?: number): Promise<number>;
  /** The ports of the replicas of the master on `masterPort`, as that master sees them. */
  replicasOf(masterPort: number): Promise<number[]>;
  /**
   * Resolve once every running node reports `cluster_state:ok`, agrees on which node serves
   * every slot, and every running replica's link to its master is up.
   * @param timeoutMs @default 15000
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stop every node by PID and remove their temporary directories. Safe to call twice. */
  stop(): Promise<void>;
}

const CLI_HINT = "install redis-cli (apt-get install redis-tools, or set REDIS_CLI_BIN to its path)";

async function runCli(binary: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    execFile(binary, [...args], { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error !== null) {
        const code = (error as NodeJS.ErrnoException).code;
        reject(
          code === "ENOENT"
            ? new Error(`${binary} not found: ${CLI_HINT}`)
            : new Error(`${binary} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`),
        );
        return;
      }
      resolve(stdout.trim());
    });
  });
}

/** `CLUSTER SHARDS`-free reading of `CLUSTER NODES`: per node its port, role flags, master id and slot ranges. */
interface NodeLine {
  readonly id: string;
  readonly port: number;
  readonly flags: readonly string[];
  readonly masterId: string;
  readonly slots: readonly (readonly [number, number])[];
}

function parseNodes(text: string): NodeLine[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id = "", address = "", flags = "", masterId = "", , , , , ...slots] = line.trim().split(" ");
      const port = Number(address.slice(address.lastIndexOf(":") + 1).split("@")[0]);
      return {
        id,
        port,
        flags: flags.split(","),
        masterId,
        slots: slots
          .filter((range) => !range.startsWith("["))
          .map((range) => {
            const [from, to] = range.split("-").map(Number);
            return [from!, to ?? from!] as const;
          }),
      };
    });
}

class RedisClusterProcesses implements RedisCluster {
  private stopped = false;

  constructor(
    readonly nodes: readonly RedisServer[],
    private readonly cliBinary: string,
    private readonly timeoutMs: number,
  ) {}

  get seeds(): readonly ClusterSeed[] {
    return this.nodes.map((node) => ({ host: "127.0.0.1", port: node.port }));
  }

  async cli(port: number, ...args: string[]): Promise<string> {
    return await runCli(this.cliBinary, ["-h", "127.0.0.1", "-p", String(port), ...args], this.timeoutMs);
  }

  async masterOf(slot: number, askPort?: number): Promise<number> {
    const port = askPort ?? this.running()[0]?.port;
    if (port === undefined) throw new Error("RedisCluster: no node is running");
    const master = parseNodes(await this.cli(port, "cluster", "nodes")).find(
      (node) =>
        node.flags.includes("master") && !node.flags.includes("fail") && node.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (master === undefined) throw new Error(`RedisCluster: no master serves slot ${slot} (asked node ${port})`);
    return master.port;
  }

  async replicasOf(masterPort: number): Promise<number[]> {
    const nodes = parseNodes(await this.cli(masterPort, "cluster", "nodes"));
    const master = nodes.find((node) => node.port === masterPort);
    if (master === undefined) return [];
    return nodes.filter((node) => node.masterId === master.id && !node.flags.includes("fail")).map((node) => node.port);
  }

  async waitHealthy(timeoutMs = 15_000): Promise<void> {
    await waitUntil(
      async () => {
        const running = this.running();
        const views: string[] = [];
        for (const node of running) {
          const info = await this.cli(node.port, "cluster", "info").catch(() => "");
          if (!info.includes("cluster_state:ok")) return false;
          const lines = parseNodes(await this.cli(node.port, "cluster", "nodes"));
          // Every node must see the same owner of every slot, none of them failed.
          const owners = lines
            .filter((line) => line.flags.includes("master") && line.slots.length > 0)
            .map(
              (line) =>
                `${line.port}:${line.slots.map((range) => range.join("-")).join(",")}${line.flags.includes("fail") || line.flags.includes("fail?") ? "!" : ""}`,
            )
            .sort()
            .join(" ");
          if (owners.includes("!")) return false;
          views.push(owners);
          if (lines.find((line) => line.port === node.port)?.flags.includes("slave") === true) {
            const replication = await this.cli(node.port, "info", "replication");
            if (!replication.includes("master_link_status:up")) return false;
          }
        }
        return views.length > 0 && views.every((view) => view === views[0]);
      },
      "the Redis Cluster to be healthy (cluster_state:ok, one view of the slots, replicas linked)",
      timeoutMs,
      50,
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.nodes.map(async (node) => await node.stop()));
  }

  private running(): RedisServer[] {
    return this.nodes.filter((node) => node.pid !== undefined);
  }
}

/**
 * Start a private Redis Cluster for a test: `masters * (1 + replicasPerMaster)` redis-server
 * processes with `--cluster-enabled yes` on free loopback ports (and a free cluster-bus port
 * each), joined with `redis-cli --cluster create ... --cluster-yes`, resolved once it is healthy
 * (see {@link RedisCluster.waitHealthy}). Bounded by `startTimeoutMs`; call `stop()` in the
 * teardown (an exit hook kills whatever is left).
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
 * try { const redis = new Cluster([...cluster.seeds]); ... } finally { await cluster.stop(); }
 * ```
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  if (!Number.isInteger(masters) || masters < 3)
    throw new TypeError(`startRedisCluster: masters must be an integer of at least 3, got ${masters}`);
  if (!Number.isInteger(replicas) || replicas < 0)
    throw new TypeError(`startRedisCluster: replicasPerMaster must be a non-negative integer, got ${replicas}`);
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = performance.now() + timeoutMs;
  const left = (): number => Math.max(1, Math.round(deadline - performance.now()));
  const cliBinary = options.cliBinary ?? process.env["REDIS_CLI_BIN"] ?? "redis-cli";
  const nodes: RedisServer[] = [];
  const cluster = new RedisClusterProcesses(nodes, cliBinary, timeoutMs);
  try {
    const count = masters * (1 + replicas);
    const started = await Promise.all(
      Array.from(
        { length: count },
        async () =>
          await startRedisServer({
            startTimeoutMs: left(),
            args: [
              "--cluster-enabled",
              "yes",
              "--cluster-config-file",
              "nodes.conf",
              "--cluster-node-timeout",
              String(options.nodeTimeoutMs ?? 1000),
              // An explicit bus port: the default (port + 10000) can be above 65535 or taken.
              "--cluster-port",
              String(await freePort()),
              ...(options.args ?? []),
            ],
          }),
      ),
    );
    nodes.push(...started);
    await runCli(
      cliBinary,
      ["--cluster", "create", ...nodes.map((node) => `127.0.0.1:${node.port}`), "--cluster-replicas", String(replicas), "--cluster-yes"],
      left(),
    );
    await cluster.waitHealthy(left());
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
