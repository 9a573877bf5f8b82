/**
 * The bench's command line: `node dist/run.js [scenario ...] [options]` runs the standard set
 * (or the scenarios named), prints a table per scenario and the targets, and writes the
 * figures to apps/bench/results/. See `--help` and the README.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { machineInfo, type BenchReport } from "./bench-report.js";
import { parseCliOptions, USAGE, type CliOptions } from "./cli-options.js";
import { compareWithBaseline, formatBaseline, readBaselineMetrics } from "./report/baseline.js";
import { formatProfileSummary, summariseProfile } from "./report/profile-summary.js";
import { formatTable, ratio } from "./report/table.js";
import { metLabel } from "./report/target-check.js";
import { clientCostMetrics, clientCostTargets, formatClientCost, runClientCost } from "./scenarios/client-cost.js";
import { attackMetrics, attackTargets, formatAttack, runAttack } from "./scenarios/attack.js";
import { formatHotDocument, hotDocumentMetrics, hotDocumentTargets, runHotDocument } from "./scenarios/hot-document.js";
import { formatIdleConnections, idleConnectionsMetrics, idleConnectionsTargets, runIdleConnections } from "./scenarios/idle-connections.js";
import { formatLargeDocument, largeDocumentMetrics, largeDocumentTargets, runLargeDocument } from "./scenarios/large-document.js";
import { formatPresenceLoad, presenceLoadMetrics, runPresenceLoad } from "./scenarios/presence-load.js";
import { docsPerConnectionMetrics, formatDocsPerConnection, runDocsPerConnection } from "./scenarios/docs-per-connection.js";
import { formatManyDocuments, manyDocumentsMetrics, manyDocumentsTargets, runManyDocuments } from "./scenarios/many-documents.js";
import { formatReconnectStorm, reconnectStormMetrics, reconnectStormTargets, runReconnectStorm } from "./scenarios/reconnect-storm.js";
import { resultsDir } from "./server-fleet.js";
import { FRAME_HOLD_ENV, SERVER_NODE_FLAGS_ENV } from "./servers/server-env.js";

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

async function runScenarios(options: CliOptions, args: readonly string[]): Promise<BenchReport> {
  const started = performance.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const profileRoot = options.profile ? join(resultsDir(), "profiles", stamp) : undefined;
  if (profileRoot !== undefined) mkdirSync(profileRoot, { recursive: true });
  const report: BenchReport = {
    version: 1,
    startedAt: new Date().toISOString(),
    args,
    machine: machineInfo(),
    scenarios: {},
    targets: [],
    metrics: {},
    durationSeconds: 0,
  };
  const m = report.machine;
  print(`OpenOT bench, ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, load average ${m.loadAverageStart.toFixed(2)}`);
  const tables: string[] = [];
  // Every OpenOT server process of the run reads it (see servers/openot-server.ts).
  if (options.frameHoldMs !== undefined) process.env[FRAME_HOLD_ENV] = String(options.frameHoldMs);
  if (options.serverNodeFlags !== undefined) process.env[SERVER_NODE_FLAGS_ENV] = options.serverNodeFlags;
  const common = {
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    ...(profileRoot === undefined ? {} : { profileDir: profileRoot }),
  };

  for (const scenario of options.scenarios) {
    print(`\n> ${scenario}`);
    switch (scenario) {
      case "hot": {
        const result = await runHotDocument(
          {
            ...common,
            clients: options.clients ?? [1, 10, 50, 200],
            systems: options.systems,
            docSize: options.docSize,
            drivers: options.drivers,
            batch: options.batch,
            loadClients: options.loadClients,
          },
          print,
        );
        report.scenarios.hot = result;
        report.targets.push(...hotDocumentTargets(result));
        Object.assign(report.metrics, hotDocumentMetrics(result));
        tables.push(formatHotDocument(result));
        break;
      }
      case "client-cost": {
        const result = await runClientCost(
          {
            clients: options.clients ?? [10, 50],
            frameSize: 12,
            messages: 60_000,
            rounds: 9,
            docSize: options.docSize,
            loadClients:
              options.loadClients.length === 1 && options.loadClients[0] === "raw"
                ? ["raw", "otclient", "connection"]
                : options.loadClients,
          },
          print,
        );
        report.scenarios.clientCost = result;
        report.targets.push(...clientCostTargets(result));
        Object.assign(report.metrics, clientCostMetrics(result));
        tables.push(formatClientCost(result));
        break;
      }
      case "many-docs": {
        const manyDocs = {
          ...common,
          clients: options.clients?.[0] ?? 1000,
          docs: options.docs,
          instances: options.instances,
          docSize: options.docSize,
          drivers: options.drivers,
          batch: options.batch,
        };
        for (const loadClient of options.loadClients) {
          const result = await runManyDocuments({ ...manyDocs, loadClient }, print);
          // The first (the raw client's, by default) keeps the report's place; the product's clients go beside it.
          if (report.scenarios.manyDocs === undefined) report.scenarios.manyDocs = result;
          else (report.scenarios.manyDocsOtherClients ??= []).push(result);
          report.targets.push(...manyDocumentsTargets(result));
          Object.assign(report.metrics, manyDocumentsMetrics(result));
          tables.push(formatManyDocuments(result));
        }
        if (options.systems.includes("openot-cluster") && report.scenarios.manyDocs !== undefined) {
          const result = report.scenarios.manyDocs;
          const onCluster = await runManyDocuments({ ...manyDocs, system: "openot-cluster" }, print);
          report.scenarios.manyDocsCluster = onCluster;
          report.targets.push(...manyDocumentsTargets(onCluster));
          tables.push(
            formatManyDocuments(onCluster),
            `many documents, cluster / one Redis: ${ratio(onCluster.opsPerSec, result.opsPerSec)} ops/s`,
          );
        }
        break;
      }
      case "idle": {
        const result = await runIdleConnections({ ws: options.ws, sse: options.sse, docs: 100, idleSeconds: options.idleSeconds }, print);
        report.scenarios.idle = result;
        report.targets.push(...idleConnectionsTargets(result));
        Object.assign(report.metrics, idleConnectionsMetrics(result));
        tables.push(formatIdleConnections(result));
        break;
      }
      case "storm": {
        const result = await runReconnectStorm({ clients: options.clients?.[0] ?? 1000, downMs: 0, timeoutSeconds: 60 }, print);
        report.scenarios.storm = result;
        report.targets.push(...reconnectStormTargets(result));
        Object.assign(report.metrics, reconnectStormMetrics(result));
        tables.push(formatReconnectStorm(result));
        break;
      }
      case "large-doc": {
        const result = await runLargeDocument(
          { ...common, sizes: options.sizes, systems: options.largeSystems, opsPerSecond: options.largeRate },
          print,
        );
        report.scenarios.largeDoc = result;
        report.targets.push(...largeDocumentTargets(result));
        Object.assign(report.metrics, largeDocumentMetrics(result));
        tables.push(formatLargeDocument(result));
        break;
      }
      case "docs-per-connection": {
        const result = await runDocsPerConnection(
          { ...common, docs: options.docs, docSize: options.docSize, batch: options.batch, loadClients: options.loadClients },
          print,
        );
        report.scenarios.docsPerConnection = result;
        Object.assign(report.metrics, docsPerConnectionMetrics(result));
        tables.push(formatDocsPerConnection(result));
        break;
      }
      case "presence": {
        const result = await runPresenceLoad(
          {
            ...common,
            typists: options.clients?.[0] ?? 10,
            people: options.people,
            hz: options.presenceHz,
            docSize: options.docSize,
            batch: options.batch,
            loadClients: options.loadClients,
          },
          print,
        );
        report.scenarios.presence = result;
        Object.assign(report.metrics, presenceLoadMetrics(result));
        tables.push(formatPresenceLoad(result));
        break;
      }
      case "attack": {
        const result = await runAttack({ seconds: options.attackSeconds }, print);
        report.scenarios.attack = result;
        report.targets.push(...attackTargets(result));
        Object.assign(report.metrics, attackMetrics(result));
        tables.push(formatAttack(result));
        break;
      }
    }
  }
  report.machine.loadAverageEnd = loadavg()[0] ?? Number.NaN;
  report.durationSeconds = (performance.now() - started) / 1000;

  print("");
  for (const table of tables) print(`${table}\n`);
  if (report.targets.length > 0) {
    print("Targets (ratios taken within this run)");
    print(
      formatTable(
        ["target", "wanted", "measured", "met"],
        report.targets.map((t) => [t.name, t.target, t.measured, metLabel(t.met)]),
      ),
    );
  }
  print(
    `\n${report.durationSeconds.toFixed(0)} s; load average ${report.machine.loadAverageStart.toFixed(2)} at the start, ` +
      `${report.machine.loadAverageEnd.toFixed(2)} at the end (${report.machine.cpus} CPUs)`,
  );
  if (profileRoot !== undefined) printProfiles(profileRoot);
  return report;
}

function printProfiles(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile") && f.includes("openot"));
  for (const file of files) {
    const path = join(dir, file);
    const text = formatProfileSummary(path, summariseProfile(path), 15);
    writeFileSync(`${path}.txt`, `${text}\n`);
  }
  print(
    `\nCPU profiles of the server and driver processes: ${dir} (summaries of the OpenOT ones in *.cpuprofile.txt; open the profiles in Chrome DevTools)`,
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let options: CliOptions;
  try {
    options = parseCliOptions(args);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.command === "help") {
    print(USAGE);
    return;
  }
  if (options.command === "profile") {
    if (options.files.length === 0) throw new Error("profile: name at least one .cpuprofile file");
    for (const file of options.files) print(`${formatProfileSummary(file, summariseProfile(file), 30)}\n`);
    return;
  }
  const report = await runScenarios(options, args);
  const out = resolve(options.out ?? join(resultsDir(), `${report.startedAt.replace(/[:.]/g, "-")}.json`));
  mkdirSync(resolve(out, ".."), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  print(`results: ${out}`);
  if (options.baseline !== undefined) {
    print(`\n${formatBaseline(options.baseline, compareWithBaseline(readBaselineMetrics(options.baseline), report.metrics))}`);
  }
}

try {
  await main();
} catch (error) {
  // Every child process has been stopped by the scenario's own clean-up by now.
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
