import { fileURLToPath } from "node:url";
import { startRedisCluster, startRedisServer, type RedisCluster, type RedisServer } from "@open-ot/harness";
import { ChildHandle } from "./child-handle.js";
import type { ServerConfig, ServerReady } from "./servers/server-main.js";
import { serverNodeFlags } from "./servers/server-env.js";
import type { MemoryAfterGc, WindowStats } from "./servers/process-stats.js";

/** The systems compared, as the table names them. */
export type SystemName = "openot" | "openot-redis" | "openot-cluster" | "sharedb" | "relay" | "relay-redis" | "relay-redis-batch";

/** Systems that run as several instances sharing a redis-server (or, openot-cluster, a Redis Cluster). */
export function sharesRedis(system: SystemName): boolean {
  return system === "openot-redis" || system === "openot-cluster" || system === "relay-redis" || system === "relay-redis-batch";
}

/** Options for {@link ServerFleet.start}. */
export interface FleetOptions {
  readonly system: SystemName;
  /** Server processes; more than one only for the systems that share Redis. @default 1 (2 for the systems that share Redis) */
  readonly instances?: number;
  /** Write a CPU profile of every server process into this directory. @default undefined (no profile) */
  readonly profileDir?: string;
  /** A name for the profile files. @default "server" */
  readonly profileName?: string;
}

/** Figures of one server process over a measurement window (see {@link ServerFleet.windowStats}). */
export type ServerWindowStats = WindowStats & Record<string, unknown>;

/** The server processes (and the redis-server or Redis Cluster, if any) of one run. */
export class ServerFleet {
  readonly system: SystemName;
  readonly servers: ChildHandle<ServerReady>[];
  readonly redis: RedisServer | undefined;
  /** openot-cluster: three masters with a replica each. */
  readonly cluster: RedisCluster | undefined;
  readonly #options: FleetOptions;
  #restarts = 0;

  private constructor(
    options: FleetOptions,
    servers: ChildHandle<ServerReady>[],
    redis: RedisServer | undefined,
    cluster: RedisCluster | undefined,
  ) {
    this.system = options.system;
    this.servers = servers;
    this.redis = redis;
    this.cluster = cluster;
    this.#options = options;
  }

  /** Start the servers of `options.system` (and Redis for the systems that share it). */
  static async start(options: FleetOptions): Promise<ServerFleet> {
    const redisShared = sharesRedis(options.system);
    const instances = options.instances ?? (redisShared ? 2 : 1);
    if (instances > 1 && !redisShared) {
      throw new Error(
        `${options.system} runs as one instance; only openot-redis, openot-cluster, relay-redis and relay-redis-batch have several (got instances=${instances})`,
      );
    }
    const onCluster = options.system === "openot-cluster";
    const redis = redisShared && !onCluster ? await startRedisServer() : undefined;
    const cluster = onCluster ? await startRedisCluster({ masters: 3, replicasPerMaster: 1 }) : undefined;
    const fleet = new ServerFleet(options, [], redis, cluster);
    try {
      for (let i = 0; i < instances; i++) fleet.servers.push(await fleet.#spawn(i));
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  #config(port?: number): ServerConfig {
    switch (this.system) {
      case "openot":
        return { kind: "openot", backend: "memory", ...(port === undefined ? {} : { port }) };
      case "openot-redis":
        return { kind: "openot", backend: "redis", redisUrl: this.redis?.url ?? "", ...(port === undefined ? {} : { port }) };
      case "openot-cluster":
        return {
          kind: "openot",
          backend: "redis-cluster",
          redisSeeds: [...(this.cluster?.seeds ?? [])],
          ...(port === undefined ? {} : { port }),
        };
      case "sharedb":
        return { kind: "sharedb" };
      case "relay":
        return { kind: "relay" };
      case "relay-redis":
        return { kind: "relay-redis", redisUrl: this.redis?.url ?? "", ...(port === undefined ? {} : { port }) };
      case "relay-redis-batch":
        return { kind: "relay-redis", redisUrl: this.redis?.url ?? "", batch: true, ...(port === undefined ? {} : { port }) };
    }
  }

  #spawn(instance: number, port?: number): Promise<ChildHandle<ServerReady>> {
    const execArgv = ["--expose-gc", ...serverNodeFlags()];
    const dir = this.#options.profileDir;
    if (dir !== undefined) {
      const name = `${this.#options.profileName ?? "server"}-i${instance}${this.#restarts > 0 ? `-r${this.#restarts}` : ""}.cpuprofile`;
      execArgv.push("--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`);
    }
    return ChildHandle.start<ServerReady>("./servers/server-main.js", [JSON.stringify(this.#config(port))], { execArgv });
  }

  /** `ws://127.0.0.1:<port>` of each instance. */
  get urls(): string[] {
    return this.servers.map((s) => `ws://127.0.0.1:${s.ready.port}`);
  }

  /** `http://127.0.0.1:<port>` of each instance. */
  get httpUrls(): string[] {
    return this.servers.map((s) => `http://127.0.0.1:${s.ready.port}`);
  }

  /** Create text documents (through the first instance; they share storage). */
  async createDocuments(ids: readonly string[], text: string): Promise<void> {
    await this.servers[0]?.request("createDocuments", { ids, text });
  }

  /** The server's text of `docId` (`undefined` for the relay). */
  documentText(docId: string): Promise<string | undefined> {
    const first = this.servers[0];
    return first === undefined ? Promise.resolve(undefined) : first.request<string | undefined>("documentText", { docId });
  }

  /** Start a measurement window on every instance. */
  async windowStart(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.request("windowStart")));
  }

  /** Figures since {@link windowStart}, per instance. */
  windowStats(): Promise<ServerWindowStats[]> {
    return Promise.all(this.servers.map((s) => s.request<ServerWindowStats>("windowStats")));
  }

  /** Memory after GC, per instance. */
  memory(): Promise<(MemoryAfterGc & { gc: boolean })[]> {
    return Promise.all(this.servers.map((s) => s.request<MemoryAfterGc & { gc: boolean }>("memory")));
  }

  /** Open connections, per instance. */
  connectionCounts(): Promise<number[]> {
    return Promise.all(this.servers.map((s) => s.request<number>("connectionCount")));
  }

  /**
   * Stop instance `index` gracefully (its clients get 1001) and start a new process on the same
   * port, `downMs` after the old one exited; resolves when the new one listens. A close that
   * has not finished within `closeTimeoutMs` is cut short by killing the process.
   */
  async restart(index: number, downMs = 0, closeTimeoutMs = 30_000): Promise<RestartReport> {
    const old = this.servers[index];
    if (old === undefined) throw new Error(`no instance ${index}`);
    const port = old.ready.port;
    const started = performance.now();
    let report: RestartReport;
    try {
      const steps = await old.request<Record<string, number> | undefined>("close", {}, closeTimeoutMs);
      report = { closeMs: performance.now() - started, closeSteps: steps ?? {}, closeHungIn: undefined };
    } catch {
      // A graceful close that does not finish is a finding, not a reason to stop the bench:
      // note where it hung and kill the process, as an orchestrator would after its grace period.
      const hungIn = await old.request<string | undefined>("closingStep", {}, 5_000).catch(() => "unknown");
      report = { closeMs: performance.now() - started, closeSteps: {}, closeHungIn: hungIn ?? "unknown" };
      await old.kill();
    }
    await old.stop();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    this.#restarts += 1;
    this.servers[index] = await this.#spawn(index, port);
    return report;
  }

  /** Stop every process (servers first, then Redis). */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    await this.redis?.stop();
    await this.cluster?.stop();
  }
}

/** How a restart went: how long the graceful close took, and where it hung if it did not finish. */
export interface RestartReport {
  readonly closeMs: number;
  /** Milliseconds per close step (OpenOT: bindings, hub, http, backend). */
  readonly closeSteps: Record<string, number>;
  /** The step a close that did not finish within the timeout was waiting on. */
  readonly closeHungIn: string | undefined;
}

/** The directory results and profiles go to: apps/bench/results/. */
export function resultsDir(): string {
  return fileURLToPath(new URL("../results/", import.meta.url));
}
