import { parseArgs } from "node:util";
import type { LoadClientKind } from "./drivers/load-client.js";
import type { SystemName } from "./server-fleet.js";

/** The standard set of scenarios, by the names used on the command line; a run without names runs these. */
export const SCENARIOS = ["hot", "client-cost", "many-docs", "idle", "storm", "large-doc"] as const;

/** Scenarios run only when named: `attack` measures defences, not speed. */
export const EXTRA_SCENARIOS = ["attack", "docs-per-connection", "presence"] as const;

/** One scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number] | (typeof EXTRA_SCENARIOS)[number];

const ALL_SCENARIOS: readonly ScenarioName[] = [...SCENARIOS, ...EXTRA_SCENARIOS];

const SYSTEMS: readonly SystemName[] = ["openot", "openot-redis", "sharedb", "relay", "relay-redis", "relay-redis-batch"];
/** Systems --systems also accepts (not run by default: starting a Redis Cluster takes seconds). */
const MORE_SYSTEMS: readonly SystemName[] = ["openot-cluster"];
const LARGE_SYSTEMS: readonly SystemName[] = ["openot", "openot-redis"];

/** Everything the command line can set, after defaults. */
export interface CliOptions {
  readonly command: "run" | "profile" | "help";
  /** Scenarios to run (all of them, in this order, by default). */
  readonly scenarios: readonly ScenarioName[];
  /** `profile`: the .cpuprofile files to summarise. */
  readonly files: readonly string[];
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** `--clients`, when given: hot takes the list, many-docs and storm its first value. */
  readonly clients: readonly number[] | undefined;
  readonly systems: readonly SystemName[];
  readonly docs: number;
  /** presence: people, and their caret moves per second. */
  readonly people: number;
  readonly presenceHz: number;
  readonly instances: number;
  readonly docSize: number;
  readonly sizes: readonly number[];
  readonly largeSystems: readonly SystemName[];
  /** large-doc: ops per second the client submits at, every size alike; 0 for "next op on the ack". */
  readonly largeRate: number;
  readonly ws: number;
  readonly sse: number;
  readonly idleSeconds: number;
  /** attack: the longest each row may run, seconds. */
  readonly attackSeconds: number;
  readonly drivers: number;
  readonly batch: boolean;
  /** hot, many-docs: the clients OpenOT's load is made with, a run each. */
  readonly loadClients: readonly LoadClientKind[];
  /** Extra `node` flags for every server process (all systems alike), space-separated. */
  readonly serverNodeFlags: string | undefined;
  /** Our server's `Hub` `frameHoldMs`; undefined: the Hub's default. */
  readonly frameHoldMs: number | undefined;
  readonly profile: boolean;
  readonly baseline: string | undefined;
  readonly out: string | undefined;
}

/** The `--help` text. */
export const USAGE = `Usage: node dist/run.js [scenario ...] [options]
       node dist/run.js profile <file.cpuprofile> ...

Scenarios (default: all of them, the standard set):
  hot         N clients on one document: OpenOT (one instance; two + Redis), ShareDB, raw ws relay
              (alone; two + Redis with one script run per message, or per event-loop turn's batch)
  client-cost what a client spends per received message, the raw client beside OTClient and an
              OTConnection document (--load-client; all three by default), on frames of a hot
              document of N clients (--clients, default 10,50) replayed in one process
  many-docs   many clients over many documents, instances sharing Redis
  idle        idle WebSocket and SSE connections: server memory per connection, event-loop delay
  storm       reconnect storm: an instance restarted under its clients
  large-doc   commit cost at growing document sizes, one client

Named only (not in the standard set):
  attack      one attacker per row against a default-configured server: peak RSS and another
              client's ping latency (issue 16's bounded attack run)
  docs-per-connection
              --docs documents (default 100), one client each, on one instance: all over one
              OTConnection, then a connection each (per --load-client): ops/s, ack p99, server
              memory per document
  presence    typists (--clients, default 10) on one document while people (--people, default
              50) joined with presence sit idle, then move their caret at --presence-hz (30):
              presence delivered/s, server CPU per update, the typists' ack p99

Options:
  --seconds <s>         measured seconds per load run (default 5)
  --warmup <s>          unmeasured seconds before each window (default 1)
  --clients <n,...>     hot: client counts (default 1,10,50,200); client-cost: the hot documents' client
                        counts (default 10,50); many-docs: total (default 1000); storm: clients (default 1000)
  --systems <a,...>     hot: systems (default openot,openot-redis,sharedb,relay,relay-redis,
                        relay-redis-batch; also openot-cluster: two instances on a Redis
                        Cluster); many-docs: runs on openot-cluster too when it is listed
  --people <n>          presence: people moving their caret (default 50)
  --presence-hz <n>     presence: caret moves per second per person (default 30)
  --docs <n>            many-docs, docs-per-connection: documents (default 100)
  --instances <n>       many-docs: OpenOT instances sharing Redis (default 2)
  --doc-size <chars>    hot, many-docs: document size kept by the edits (default 1000)
  --sizes <n,...>       large-doc: document sizes in characters (default 1000,100000,1000000)
  --large-systems <a,.> large-doc: systems (default openot,openot-redis)
  --large-rate <ops/s>  large-doc: the fixed op rate of every size (default 500); 0: next op on the ack
  --attack-seconds <s>  attack: the longest each row may run (default 10)
  --ws <n>              idle: WebSocket connections (default 10000)
  --sse <n>             idle: SSE streams (default 2000)
  --idle-seconds <s>    idle: seconds the event loop is watched (default 5)
  --drivers <n>         load-driver processes the clients are spread over (default 1)
  --no-batch            OpenOT clients do not opt in to batched frames
  --load-client <a,...> hot, many-docs, docs-per-connection, presence: which clients make OpenOT's load, a run
                        each (default raw): raw (the wire protocol, leanest), otclient (the product's
                        OTClient), connection (a document of the product's OTConnection); client-cost:
                        the clients measured beside the raw client (default otclient,connection)
  --frame-hold <ms>     our server's frame pacing for batching connections (Hub frameHoldMs;
                        default: the Hub's default; 0 = one frame per event-loop turn)
  --server-node-flags=<f>  extra node flags for every server process of every system
                        (note the "="), e.g. --server-node-flags=--max-semi-space-size=2
  --profile             CPU-profile every server process (results/profiles/<run>/) and summarise
  --baseline <file>     compare with an earlier results file and print the changes
  --out <file>          where to write the results (default results/<date>.json)
  --help
`;

function numberList(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(",").map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new Error(`--${name} takes positive numbers separated by commas, got "${value}"`);
  }
  return list;
}

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number, got "${value}"`);
  return n;
}

function nonNegative(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} takes a number ≥ 0, got "${value}"`);
  return n;
}

function systemList(value: string | undefined, name: string, defaults: readonly SystemName[], allowed = defaults): readonly SystemName[] {
  if (value === undefined) return defaults;
  const list = value.split(",").map((v) => v.trim());
  const bad = list.filter((v) => !allowed.includes(v as SystemName));
  if (bad.length > 0) throw new Error(`--${name}: unknown system ${bad.join(", ")}; choose from ${allowed.join(", ")}`);
  return list as SystemName[];
}

const LOAD_CLIENTS: readonly LoadClientKind[] = ["raw", "otclient", "connection"];

function loadClientList(value: string | undefined): readonly LoadClientKind[] {
  if (value === undefined) return ["raw"];
  const list = value.split(",").map((v) => v.trim());
  const bad = list.filter((v) => !LOAD_CLIENTS.includes(v as LoadClientKind));
  if (bad.length > 0) throw new Error(`--load-client: unknown client ${bad.join(", ")}; choose from ${LOAD_CLIENTS.join(", ")}`);
  return list as LoadClientKind[];
}

/** Parse the command line (without `node` and the script). Throws with a message that names the bad flag. */
export function parseCliOptions(argv: readonly string[]): CliOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      seconds: { type: "string" },
      warmup: { type: "string" },
      clients: { type: "string" },
      systems: { type: "string" },
      docs: { type: "string" },
      people: { type: "string" },
      "presence-hz": { type: "string" },
      instances: { type: "string" },
      "doc-size": { type: "string" },
      sizes: { type: "string" },
      "large-systems": { type: "string" },
      "large-rate": { type: "string" },
      ws: { type: "string" },
      sse: { type: "string" },
      "idle-seconds": { type: "string" },
      "attack-seconds": { type: "string" },
      drivers: { type: "string" },
      "no-batch": { type: "boolean" },
      "load-client": { type: "string" },
      "frame-hold": { type: "string" },
      "server-node-flags": { type: "string" },
      profile: { type: "boolean" },
      baseline: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    },
  });
  const [first, ...rest] = positionals;
  const command = values.help === true ? "help" : first === "profile" ? "profile" : "run";
  const named = command === "run" ? positionals : [];
  const unknown = named.filter((p) => !ALL_SCENARIOS.includes(p as ScenarioName));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(", ")}; choose from ${ALL_SCENARIOS.join(", ")} (or none for the standard set)`);
  return {
    command,
    scenarios: named.length === 0 ? SCENARIOS : ALL_SCENARIOS.filter((s) => named.includes(s)),
    files: command === "profile" ? rest : [],
    seconds: positive(values.seconds, "seconds", 5),
    warmupSeconds: nonNegative(values.warmup, "warmup", 1),
    clients: numberList(values.clients, "clients"),
    systems: systemList(values.systems, "systems", SYSTEMS, [...SYSTEMS, ...MORE_SYSTEMS]),
    docs: positive(values.docs, "docs", 100),
    people: positive(values.people, "people", 50),
    presenceHz: positive(values["presence-hz"], "presence-hz", 30),
    instances: positive(values.instances, "instances", 2),
    docSize: positive(values["doc-size"], "doc-size", 1000),
    sizes: numberList(values.sizes, "sizes") ?? [1000, 100_000, 1_000_000],
    largeSystems: systemList(values["large-systems"], "large-systems", LARGE_SYSTEMS),
    largeRate: nonNegative(values["large-rate"], "large-rate", 500),
    ws: positive(values.ws, "ws", 10_000),
    sse: positive(values.sse, "sse", 2000),
    idleSeconds: positive(values["idle-seconds"], "idle-seconds", 5),
    attackSeconds: positive(values["attack-seconds"], "attack-seconds", 10),
    drivers: positive(values.drivers, "drivers", 1),
    batch: values["no-batch"] !== true,
    loadClients: loadClientList(values["load-client"]),
    serverNodeFlags: values["server-node-flags"],
    frameHoldMs: values["frame-hold"] === undefined ? undefined : nonNegative(values["frame-hold"], "frame-hold", 0),
    profile: values.profile === true,
    baseline: values.baseline,
    out: values.out,
  };
}
