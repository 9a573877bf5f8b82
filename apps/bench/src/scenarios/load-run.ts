import { createHash } from "node:crypto";
import { ChildHandle } from "../child-handle.js";
import { initialText, wallClock } from "../drivers/edit-generator.js";
import type { DriverConvergeResult, DriverRunResult, DriverSetup, SystemKind } from "../drivers/driver-main.js";
import type { LoadClientKind, LoadClientSpec } from "../drivers/load-client.js";
import { Histogram, type LatencySummary } from "../histogram.js";
import { ServerFleet, type ServerWindowStats, type SystemName } from "../server-fleet.js";
import type { MemoryAfterGc } from "../servers/process-stats.js";

/** Parameters of one load run (a system, a number of clients and documents, a duration). */
export interface LoadRunParams {
  readonly system: SystemName;
  /** Clients, spread round-robin over documents; each document's clients alternate between instances. */
  readonly clients: number;
  /** Documents. @default 1 */
  readonly docs?: number;
  /** Server instances (more than one only on Redis). @default 1, 2 for openot-redis and openot-cluster */
  readonly instances?: number;
  /** Measured seconds. */
  readonly seconds: number;
  /** Unmeasured seconds before the window. @default 1 */
  readonly warmupSeconds?: number;
  /** Initial document size and the size the edits keep, in characters. @default 1000 */
  readonly docSize?: number;
  /** Load-driver processes the clients are spread over. @default 1 */
  readonly drivers?: number;
  /** OpenOT only: clients opt in to batched frames. @default true */
  readonly batch?: boolean;
  /** OpenOT only: ops per second per client, a fixed pace instead of "next op on the ack". @default unpaced */
  readonly opsPerSecond?: number;
  /** OpenOT only: which client makes the load. @default "raw" */
  readonly loadClient?: LoadClientKind;
  /** Seed of the edit positions. @default 1 */
  readonly seed?: number;
  /** Write server CPU profiles into this directory. @default undefined */
  readonly profileDir?: string;
  /** Base name of the profile files. @default undefined */
  readonly profileName?: string;
  /** `connection` load client: clients sharing one `OTConnection` (in one driver). @default 1 */
  readonly clientsPerConnection?: number;
  /**
   * OpenOT only: people on the first document besides the clients, in a driver process of their
   * own, joined with presence and moving their caret `hz` times a second (0: never).
   */
  readonly presencePeople?: { readonly count: number; readonly hz: number };
  /** Read the servers' memory after GC before the joins, after them, and after the drain. @default false */
  readonly memory?: boolean;
}

/** Server memory after GC (all instances added up), bytes: what the documents and their clients hold. */
export interface LoadRunMemory {
  /** The documents created, no client yet. */
  readonly beforeJoin: MemoryAfterGc;
  /** Every client joined, before any edit. */
  readonly afterJoin: MemoryAfterGc;
  /** After the run and the drain, the clients still joined. */
  readonly afterRun: MemoryAfterGc;
}

/** What a load run measured. Latencies in milliseconds. */
export interface LoadRunResult {
  readonly system: SystemName;
  /** The OpenOT client that made the load (`raw` for the other systems). */
  readonly loadClient: LoadClientKind;
  readonly clients: number;
  readonly docs: number;
  readonly instances: number;
  readonly seconds: number;
  readonly docSize: number;
  /** Ops acknowledged per second in the window (committed ops for OT servers, echoed messages for the relay). */
  readonly opsPerSec: number;
  /** Submit to ack. */
  readonly ack: LatencySummary;
  /** Submit by one client to receipt by another on the same instance. */
  readonly broadcastSame: LatencySummary;
  /** The same across instances (empty with one instance). */
  readonly broadcastCross: LatencySummary;
  /**
   * Every client's text equal to every other's and to the server's, per document, after the
   * drain; `null` for the relay, which keeps no document.
   */
  readonly converged: boolean | null;
  /** Why not converged (documents that differ, clients that lagged), empty when converged. */
  readonly convergenceNote: string;
  /** `yes`, `n/a`, or `NO (3/100 docs differ, 12 lagging)`, for tables. */
  readonly convergenceShort: string;
  readonly orderViolations: number;
  readonly errors: Readonly<Record<string, number>>;
  /** The first description of each error code, per driver. */
  readonly errorSamples: readonly string[];
  /** Server CPU per instance as a share of one core. */
  readonly serverCpu: number[];
  /**
   * Server CPU time per acknowledged op, all instances together, microseconds. Unlike ops/s it
   * hardly depends on how much CPU the machine's other work left to the server.
   */
  readonly serverCpuUsPerOp: number;
  /** Server event-loop delay p99 per instance, ms. */
  readonly serverLoopDelayP99: number[];
  /** CPU share of one core per driver process. */
  readonly driverCpu: number[];
  /** Messages per frame the clients received (above 1 only where the server batches); NaN for clients that see no frames. */
  readonly messagesPerFrame: number;
  /**
   * Driver CPU time per message its clients received (acks and ops), all drivers together,
   * microseconds: what the load client costs per message, raw or the product's.
   */
  readonly driverUsPerMessage: number;
  /** OpenOT only: server-side time in Server.submitOperation, merged over instances. */
  readonly commit?: LatencySummary;
  /** With `presencePeople`: what the people sent and every client received, per second of the window. */
  readonly presence?: {
    readonly people: number;
    readonly hz: number;
    /** `presence` messages the people sent. */
    readonly sentPerSec: number;
    /** `presence` messages delivered (to people and clients). */
    readonly deliveredPerSec: number;
    /** Peer entries those messages held. */
    readonly entriesPerSec: number;
    /** CPU share of one core of the people's driver. */
    readonly driverCpu: number;
  };
  /** With the `memory` parameter. */
  readonly memory?: LoadRunMemory;
  /** Clients sharing one connection (1: a connection each). */
  readonly clientsPerConnection?: number;
}

async function fleetMemory(fleet: ServerFleet): Promise<MemoryAfterGc> {
  const all = await fleet.memory();
  const sum = (key: keyof MemoryAfterGc): number => all.reduce((total, m) => total + m[key], 0);
  return { rss: sum("rss"), heapUsed: sum("heapUsed"), external: sum("external"), arrayBuffers: sum("arrayBuffers") };
}

/** `; 3 out-of-order revisions; errors: internal x2 (...)` for a log line, empty when all went well. */
export function troubleNote(run: LoadRunResult): string {
  const errors = Object.entries(run.errors);
  const trouble = [
    ...(run.orderViolations > 0 ? [`${run.orderViolations} out-of-order revisions`] : []),
    ...(errors.length > 0
      ? [`errors: ${errors.map(([k, v]) => `${k} x${v}`).join(", ")} (first: ${run.errorSamples[0]?.slice(0, 200) ?? "?"})`]
      : []),
  ];
  return trouble.length > 0 ? `; ${trouble.join("; ")}` : "";
}

function driverSystem(system: SystemName): SystemKind {
  if (system === "openot-redis" || system === "openot-cluster") return "openot";
  return system === "relay-redis" || system === "relay-redis-batch" ? "relay" : system;
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

const sleepUntil = (t: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - wallClock())));

/**
 * Run one load: start the servers (in their own processes), create the documents, connect the
 * clients in driver processes, let them edit for warm-up + `seconds`, drain, check convergence
 * and collect the figures of clients and servers. Every process is stopped before it returns.
 */
export async function runLoad(params: LoadRunParams): Promise<LoadRunResult> {
  const docs = params.docs ?? 1;
  const docSize = params.docSize ?? 1000;
  const driverCount = Math.max(1, Math.min(params.drivers ?? 1, params.clients));
  const fleet = await ServerFleet.start({
    system: params.system,
    ...(params.instances === undefined ? {} : { instances: params.instances }),
    ...(params.profileDir === undefined ? {} : { profileDir: params.profileDir, profileName: params.profileName ?? "server" }),
  });
  const drivers: ChildHandle[] = [];
  try {
    const docIds = Array.from({ length: docs }, (_, i) => `bench-${i}`);
    await fleet.createDocuments(docIds, initialText(docSize));
    const urls = fleet.urls;
    // Client i edits document i % docs; the clients of one document alternate between the
    // instances (client i is the (i / docs)-th of its document).
    const specs: LoadClientSpec[] = Array.from({ length: params.clients }, (_, index) => {
      const instance = Math.floor(index / docs) % urls.length;
      const perConnection = params.clientsPerConnection ?? 1;
      return {
        index,
        instance,
        url: urls[instance] as string,
        docId: docIds[index % docs] as string,
        ...(perConnection > 1 ? { connectionGroup: Math.floor(index / perConnection) } : {}),
      };
    });
    const beforeJoin = params.memory === true ? await fleetMemory(fleet) : undefined;
    for (let d = 0; d < driverCount; d++) {
      // With --profile the drivers are profiled too: on two cores they share the machine with
      // the servers, and a driver's cost per message bounds the ops/s every system can reach.
      const execArgv =
        params.profileDir === undefined
          ? []
          : [
              "--cpu-prof",
              `--cpu-prof-dir=${params.profileDir}`,
              `--cpu-prof-name=${params.profileName ?? "server"}-driver${d}.cpuprofile`,
            ];
      drivers.push(await ChildHandle.start("./drivers/driver-main.js", [], { execArgv }));
    }
    await Promise.all(
      drivers.map((driver, d) => {
        const setup: DriverSetup = {
          system: driverSystem(params.system),
          clients: specs.filter((s) => s.index % driverCount === d),
          targetSize: docSize,
          seed: params.seed ?? 1,
          batch: params.batch ?? true,
          ...(params.loadClient === undefined ? {} : { loadClient: params.loadClient }),
          ...(params.opsPerSecond === undefined ? {} : { opsPerSecond: params.opsPerSecond }),
        };
        return driver.request("setup", setup);
      }),
    );

    const people = params.presencePeople;
    if (people !== undefined && people.count > 0) {
      const peopleDriver = await ChildHandle.start("./drivers/driver-main.js", [], {});
      drivers.push(peopleDriver);
      const setup: DriverSetup = {
        system: "openot",
        clients: Array.from({ length: people.count }, (_, i) => ({
          index: params.clients + i,
          instance: 0,
          url: urls[0] as string,
          docId: docIds[0] as string,
        })),
        targetSize: docSize,
        seed: params.seed ?? 1,
        presence: { hz: people.hz },
      };
      await peopleDriver.request("setup", setup);
    }
    const peopleDrivers = people !== undefined && people.count > 0 ? 1 : 0;
    const afterJoin = params.memory === true ? await fleetMemory(fleet) : undefined;
    const startAt = wallClock() + 200;
    const measureFrom = startAt + (params.warmupSeconds ?? 1) * 1000;
    const measureTo = measureFrom + params.seconds * 1000;
    const running = Promise.all(
      drivers.map((d) => d.request<DriverRunResult>("run", { startAt, measureFrom, measureTo, drainTimeoutMs: 30_000 })),
    );
    await sleepUntil(measureFrom);
    await fleet.windowStart();
    await sleepUntil(measureTo);
    const serverStats: ServerWindowStats[] = await fleet.windowStats();
    const allRuns = await running;
    // The people's driver (last) is kept apart: its figures are presence, not edits.
    const runs = allRuns.slice(0, allRuns.length - peopleDrivers);
    const peopleRun = peopleDrivers > 0 ? allRuns[allRuns.length - 1] : undefined;

    const revisions: Record<string, number> = {};
    for (const r of runs) for (const [doc, rev] of Object.entries(r.revisions)) revisions[doc] = Math.max(revisions[doc] ?? -1, rev);
    const converges = await Promise.all(drivers.map((d) => d.request<DriverConvergeResult>("converge", { revisions, timeoutMs: 30_000 })));
    const convergence = await checkConvergence(fleet, docIds, converges, runs);
    const afterRun = params.memory === true ? await fleetMemory(fleet) : undefined;

    const ack = new Histogram();
    const same = new Histogram();
    const cross = new Histogram();
    let acks = 0;
    let frames = 0;
    let messages = 0;
    let orderViolations = 0;
    const errors: Record<string, number> = {};
    for (const r of runs) {
      ack.merge(r.metrics.ack);
      same.merge(r.metrics.broadcastSame);
      cross.merge(r.metrics.broadcastCross);
      acks += r.metrics.acks;
      frames += r.metrics.frames;
      messages += r.metrics.messages;
      orderViolations += r.metrics.orderViolations;
      for (const [code, n] of Object.entries(r.metrics.errors)) errors[code] = (errors[code] ?? 0) + n;
    }
    const commit = new Histogram();
    let hasCommit = false;
    for (const s of serverStats) {
      const c = s.commit as Parameters<Histogram["merge"]>[0] | undefined;
      if (c !== undefined) {
        commit.merge(c);
        hasCommit = true;
      }
    }
    return {
      system: params.system,
      loadClient: params.system === "openot" || params.system === "openot-redis" ? (params.loadClient ?? "raw") : "raw",
      clients: params.clients,
      docs,
      instances: fleet.servers.length,
      seconds: params.seconds,
      docSize,
      opsPerSec: acks / params.seconds,
      ack: ack.summary(),
      broadcastSame: same.summary(),
      broadcastCross: cross.summary(),
      converged: convergence.converged,
      convergenceNote: convergence.note,
      convergenceShort: convergence.short,
      orderViolations,
      errors,
      errorSamples: runs.flatMap((r) => r.metrics.errorSamples),
      serverCpu: serverStats.map((s) => s.cpu),
      serverCpuUsPerOp: acks === 0 ? Number.NaN : (serverStats.reduce((sum, s) => sum + s.cpu, 0) * 1e6) / (acks / params.seconds),
      messagesPerFrame: frames === 0 ? Number.NaN : messages / frames,
      driverUsPerMessage:
        messages === 0 ? Number.NaN : (runs.reduce((sum, r) => sum + r.metrics.driverCpu, 0) * 1e6) / (messages / params.seconds),
      serverLoopDelayP99: serverStats.map((s) => s.loopDelay.p99),
      driverCpu: runs.map((r) => r.metrics.driverCpu),
      ...(hasCommit ? { commit: commit.summary() } : {}),
      ...(beforeJoin !== undefined && afterJoin !== undefined && afterRun !== undefined
        ? { memory: { beforeJoin, afterJoin, afterRun } }
        : {}),
      ...(people === undefined
        ? {}
        : {
            presence: {
              people: people.count,
              hz: people.hz,
              sentPerSec: (peopleRun?.metrics.presence.sent ?? 0) / params.seconds,
              deliveredPerSec: allRuns.reduce((n, r) => n + r.metrics.presence.messages, 0) / params.seconds,
              entriesPerSec: allRuns.reduce((n, r) => n + r.metrics.presence.entries, 0) / params.seconds,
              driverCpu: peopleRun?.metrics.driverCpu ?? Number.NaN,
            },
          }),
      ...(params.clientsPerConnection === undefined ? {} : { clientsPerConnection: params.clientsPerConnection }),
    };
  } finally {
    await Promise.all(drivers.map((d) => d.stop()));
    await fleet.stop();
  }
}

async function checkConvergence(
  fleet: ServerFleet,
  docIds: readonly string[],
  converges: readonly DriverConvergeResult[],
  runs: readonly DriverRunResult[],
): Promise<{ converged: boolean | null; note: string; short: string }> {
  if (fleet.system === "relay" || fleet.system === "relay-redis" || fleet.system === "relay-redis-batch")
    return { converged: null, note: "", short: "n/a" };
  const problems: string[] = [];
  const lagging = converges.reduce((n, c) => n + c.lagging, 0);
  const stuck = runs.reduce((n, r) => n + r.stuck, 0);
  if (stuck > 0) problems.push(`${stuck} clients never got their last ack`);
  if (lagging > 0) problems.push(`${lagging} clients did not reach the final revision`);
  let diverged = 0;
  let detail = "";
  for (const docId of docIds) {
    const serverText = await fleet.documentText(docId);
    const expected = serverText === undefined ? undefined : sha1(serverText);
    const hashes = converges.flatMap((c) => c.hashes[docId] ?? []);
    const distinct = new Set(hashes);
    if (hashes.every((h) => h === (expected ?? hashes[0]))) continue;
    diverged += 1;
    if (detail === "") {
      const agree = hashes.filter((h) => h === expected).length;
      detail = ` (${docId}: ${distinct.size} distinct client texts, ${agree} of ${hashes.length} clients equal to the server's)`;
    }
  }
  if (diverged > 0) problems.push(`${diverged} of ${docIds.length} documents differ between clients or from the server${detail}`);
  const short = [
    ...(diverged > 0 ? [`${diverged}/${docIds.length} docs differ`] : []),
    ...(lagging > 0 ? [`${lagging} lagging`] : []),
    ...(stuck > 0 ? [`${stuck} stuck`] : []),
  ].join(", ");
  return { converged: problems.length === 0, note: problems.join("; "), short: short === "" ? "yes" : `NO (${short})` };
}
