/**
 * Smoke test of the bench: the built CLI runs every scenario with tiny parameters and reports
 * numbers and convergence. It asserts nothing about speed (the figures depend on the machine);
 * benchmarks proper are run with `pnpm bench`, never by the test command.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { BenchReport } from "../src/bench-report.js";

const runJs = fileURLToPath(new URL("../dist/run.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "openot-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBench(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [runJs, ...args], { timeout: 85_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
    });
  });
}

describe("bench smoke", () => {
  it("runs every scenario with tiny parameters and reports numbers and convergence", async () => {
    expect(existsSync(runJs), "build the bench first (pnpm --filter @open-ot/bench build)").toBe(true);
    const out = join(dir, "smoke.json");
    const { code, stdout, stderr } = await runBench([
      "--clients",
      "2",
      "--docs",
      "2",
      "--seconds",
      "0.5",
      "--warmup",
      "0.2",
      "--ws",
      "20",
      "--sse",
      "10",
      "--idle-seconds",
      "0.3",
      "--sizes",
      "1000,20000",
      "--large-systems",
      "openot",
      "--out",
      out,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("Targets");
    const report = JSON.parse(readFileSync(out, "utf8")) as BenchReport;

    const hot = report.scenarios.hot?.runs ?? [];
    expect(hot.map((r) => r.system).sort()).toEqual(["openot", "openot-redis", "relay", "relay-redis", "relay-redis-batch", "sharedb"]);
    for (const run of hot) {
      expect(run.opsPerSec, run.system).toBeGreaterThan(0);
      expect(run.ack.p99, run.system).toBeGreaterThan(0);
      expect(run.converged, run.system).toBe(run.system.startsWith("relay") ? null : true);
      expect(run.orderViolations, run.system).toBe(0);
    }
    // Two clients on two instances: each hears the other's ops only through Redis.
    expect(hot.find((r) => r.system === "openot-redis")?.broadcastCross.count).toBeGreaterThan(0);
    for (const system of ["relay-redis", "relay-redis-batch"]) {
      expect(hot.find((r) => r.system === system)?.broadcastCross.count, system).toBeGreaterThan(0);
    }

    expect(report.scenarios.manyDocs?.converged).toBe(true);
    expect(report.scenarios.manyDocs?.opsPerSec).toBeGreaterThan(0);

    const idle = report.scenarios.idle;
    expect(idle?.costs.map((c) => [c.kind, c.opened])).toEqual([
      ["ws", 20],
      ["sse", 10],
    ]);
    expect(idle?.serverConnections).toBe(30);
    for (const c of idle?.costs ?? []) expect(Number.isFinite(c.rssPerConnection)).toBe(true);

    expect(report.scenarios.storm?.resynced).toBe(2);
    expect(report.scenarios.storm?.perSecond.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);

    const large = report.scenarios.largeDoc?.runs ?? [];
    expect(large.map((r) => r.docSize)).toEqual([1000, 20000]);
    expect(report.scenarios.largeDoc?.opsPerSecond).toBe(500);
    for (const run of large) {
      expect(run.commit?.count).toBeGreaterThan(0);
      // Paced: unpaced, one client makes thousands of ops per second on a 1 KB document.
      expect(run.opsPerSec).toBeLessThanOrEqual(500 * 1.1);
      expect(run.converged).toBe(true);
    }
    expect(report.targets.length).toBeGreaterThan(0);
    expect(Object.keys(report.metrics).length).toBeGreaterThan(10);
  });

  it("runs docs-per-connection with tiny sizes and reports ops/s, ack p99 and memory per document", async () => {
    const out = join(dir, "docs-per-connection.json");
    const args = ["docs-per-connection", "--docs", "3", "--seconds", "0.5", "--warmup", "0.2", "--load-client", "raw", "--out", out];
    const { code, stderr } = await runBench(args);
    expect(code, stderr).toBe(0);
    const result = (JSON.parse(readFileSync(out, "utf8")) as BenchReport).scenarios.docsPerConnection;
    expect(result?.rows.map((r) => [r.layout, r.run.loadClient, r.run.clientsPerConnection])).toEqual([
      ["one connection", "connection", 3],
      ["a connection each", "connection", 1],
      ["a connection each", "raw", 1],
    ]);
    for (const row of result?.rows ?? []) {
      expect(row.run.opsPerSec, row.layout).toBeGreaterThan(0);
      expect(row.run.ack.p99, row.layout).toBeGreaterThan(0);
      expect(row.run.converged, row.layout).toBe(true);
      expect(Number.isFinite(row.heapPerDocJoined), row.layout).toBe(true);
      expect(Number.isFinite(row.heapPerDocAfterRun), row.layout).toBe(true);
    }
  }, 90_000);

  it("runs presence with tiny sizes and reports presence delivered, server CPU per update and ack p99", async () => {
    const out = join(dir, "presence.json");
    const args = [
      "presence",
      "--clients",
      "2",
      "--people",
      "3",
      "--presence-hz",
      "30",
      "--seconds",
      "0.5",
      "--warmup",
      "0.2",
      "--out",
      out,
    ];
    const { code, stderr } = await runBench(args);
    expect(code, stderr).toBe(0);
    const result = (JSON.parse(readFileSync(out, "utf8")) as BenchReport).scenarios.presence;
    expect(result?.rows.map((r) => r.loadClient)).toEqual(["raw"]);
    const row = result!.rows[0]!;
    for (const run of [row.alone, row.idle, row.moving]) {
      expect(run.opsPerSec).toBeGreaterThan(0);
      expect(run.ack.p99).toBeGreaterThan(0);
      expect(run.converged).toBe(true);
    }
    expect(row.alone.presence).toBeUndefined();
    expect(row.idle.presence?.sentPerSec).toBe(0);
    expect(row.moving.presence?.sentPerSec).toBeGreaterThan(0);
    expect(row.moving.presence?.deliveredPerSec).toBeGreaterThan(0);
    expect(row.moving.presence?.entriesPerSec).toBeGreaterThan(0);
    expect(typeof row.serverUsPerUpdate).toBe("number");
  }, 90_000);
});
