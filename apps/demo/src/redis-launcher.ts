import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A redis-server the scaling demo started; see {@link launchRedisServer}. */
export interface LaunchedRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number;
  /** Stop it (SIGTERM, then SIGKILL after `timeoutMs`) and remove its folder. Safe to call twice. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Options of {@link launchRedisServer}. */
export interface LaunchRedisOptions {
  /** The executable. @default process.env.REDIS_SERVER_BIN, else "redis-server" on PATH */
  readonly binary?: string;
  /** How long to wait for "Ready to accept connections". @default 10000 */
  readonly startTimeoutMs?: number;
}

/**
 * Start a throwaway redis-server on a free port of 127.0.0.1, without persistence, for the
 * scaling demo. (packages/testing has a fuller launcher for tests; the demo must not depend on
 * a test package at run time, so this is the few lines it needs.)
 *
 * Rejects with an install hint when redis-server is missing.
 */
export async function launchRedisServer(options: LaunchRedisOptions = {}): Promise<LaunchedRedis> {
  const binary = options.binary ?? process.env["REDIS_SERVER_BIN"] ?? "redis-server";
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "open-ot-demo-redis-"));
  const child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  let output = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${startTimeoutMs} ms. Output:\n${output}`)), startTimeoutMs);
      const done = (error?: Error): void => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      child.once("error", (error: NodeJS.ErrnoException) =>
        done(error.code === "ENOENT" ? new Error(`${binary} not found: install Redis (apt-get install redis-server), or set REDIS_URL to a Redis you run.`) : error),
      );
      child.once("exit", (code) => done(new Error(`redis-server exited during start (code ${code}). Output:\n${output}`)));
      const collect = (chunk: Buffer): void => {
        output = (output + chunk.toString("utf8")).slice(-4000);
        if (output.includes("Ready to accept connections")) done();
      };
      child.stdout.on("data", collect);
      child.stderr.on("data", collect);
    });
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  // Keep reading so that a full pipe never blocks redis-server.
  child.stdout.resume();
  child.stderr.resume();

  let stopping: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid as number,
    stop(timeoutMs = 5_000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("could not find a free port"))));
    });
  });
}
