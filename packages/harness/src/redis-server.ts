import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /**
   * The redis-server executable.
   * @default process.env.REDIS_SERVER_BIN, else "redis-server" (looked up on PATH)
   */
  binary?: string;
  /**
   * How long to wait for the server to answer PING after spawning it, in milliseconds.
   * @default 10000
   */
  startTimeoutMs?: number;
  /**
   * How long `shutdown`, `kill` and `stop` wait for the process to exit, in milliseconds.
   * @default 10000
   */
  stopTimeoutMs?: number;
  /** Extra command-line arguments, appended after the launcher's own. @default [] */
  args?: readonly string[];
}

/** Options for {@link RedisServer.shutdown} and {@link RedisServer.restart}. */
export interface RedisShutdownOptions {
  /**
   * Write the data to the dump file first (`SHUTDOWN SAVE`) so that the next `start()` loads it.
   * `false` shuts down with `SHUTDOWN NOSAVE`: the data is gone, as after a crash.
   * @default true
   */
  save?: boolean;
}

/** Signals that end a redis-server process. */
export type RedisKillSignal = "SIGKILL" | "SIGTERM" | "SIGINT" | "SIGQUIT";

/**
 * A redis-server child process for tests, on a free loopback port, without persistence by
 * default (`--save "" --appendonly no`), with its dump file in a private temporary directory.
 *
 * Lifecycle (one state, changed only in `setState`):
 * `starting -> running -> stopping -> down -> starting -> ...`, and from any state `stop()` leads
 * to `stopped` (final; the temporary directory is removed).
 *
 * Two ways to take it down mid-test:
 * - {@link RedisServer.shutdown} (`SHUTDOWN SAVE`) then {@link RedisServer.start}: the data
 *   survives, like a Redis restart with persistence ("stop Redis mid-editing" tests use this).
 * - {@link RedisServer.kill} (SIGKILL) then `start()`: the data is lost, like a crash.
 */
export interface RedisServer {
  /** The TCP port, the same across restarts. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The PID of the running process; `undefined` while it is down. */
  readonly pid: number | undefined;
  /** The temporary directory holding `dump.rdb`. */
  readonly dir: string;
  /** Start it again on the same port after `shutdown()` or `kill()`; loads the dump file if there is one. */
  start(): Promise<void>;
  /** Take it down gracefully; with `save` (the default) the data survives the next `start()`. */
  shutdown(options?: RedisShutdownOptions): Promise<void>;
  /** Send `signal` to the process by PID and wait for it to exit. Unsaved data is lost. @default "SIGKILL" */
  kill(signal?: RedisKillSignal): Promise<void>;
  /** `shutdown(options)` then `start()`, on the same port. */
  restart(options?: RedisShutdownOptions): Promise<void>;
  /** Stop for good: SIGTERM by PID (SIGKILL if it lingers) and remove the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

type State = "starting" | "running" | "stopping" | "down" | "stopped";

const INSTALL_HINT = "install redis-server: apt-get install redis-server (or set REDIS_SERVER_BIN to its path)";

/** Every process this module started and still owns, killed synchronously if the test process exits. */
const live = new Set<RedisServerProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that fails before its `stop()` must not leave redis-server processes behind.
  process.once("exit", () => {
    for (const server of live) {
      server.killNow();
      rmSync(server.dir, { recursive: true, force: true });
    }
  });
}

/** Send one inline command and resolve with the first reply line (or "" if the server closed without one). */
async function sendInline(port: number, command: string, timeoutMs: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port} did not answer ${command} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk: string) => {
      reply += chunk;
      const end = reply.indexOf("\r\n");
      if (end >= 0) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply.slice(0, end));
      }
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

class RedisServerProcess implements RedisServer {
  readonly url: string;
  readonly dir: string;
  private state: State = "down";
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly binary: string;
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly extraArgs: readonly string[];

  constructor(
    readonly port: number,
    options: RedisServerOptions,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
    this.dir = mkdtempSync(join(tmpdir(), "open-ot-redis-"));
    this.binary = options.binary ?? process.env["REDIS_SERVER_BIN"] ?? "redis-server";
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.extraArgs = options.args ?? [];
  }

  get pid(): number | undefined {
    return this.state === "running" ? this.child?.pid : undefined;
  }

  private setState(next: State): void {
    this.state = next;
    if (next === "stopped") live.delete(this);
    else live.add(this);
  }

  async start(): Promise<void> {
    if (this.state !== "down") throw new Error(`redis-server on port ${this.port} is ${this.state}; start() needs it down`);
    this.setState("starting");
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--dir",
      this.dir,
      "--dbfilename",
      "dump.rdb",
      ...this.extraArgs,
    ];
    const child = spawn(this.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let output = "";
    const collect = (chunk: Buffer): void => {
      // Keep only the tail: enough to explain a failed start.
      output = (output + chunk.toString("utf8")).slice(-4000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);

    this.exited = new Promise<void>((resolve) => {
      const ended = (): void => {
        // Whatever ended it (shutdown, kill, a crash), the server is down now.
        if (this.child === child && this.state !== "stopped") this.setState("down");
        resolve();
      };
      child.once("exit", ended);
      // A spawn failure (missing binary) emits "error" and may never emit "exit".
      child.once("error", () => {
        if (child.pid === undefined) ended();
      });
    });

    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(
          () =>
            reject(
              new Error(
                `redis-server on port ${this.port} did not start within ${this.startTimeoutMs} ms (startTimeoutMs). Output:\n${output}`,
              ),
            ),
          this.startTimeoutMs,
        );
        const fail = (error: Error): void => {
          clearTimeout(deadline);
          reject(error);
        };
        child.once("error", (error: NodeJS.ErrnoException) => {
          fail(error.code === "ENOENT" ? new Error(`${this.binary} not found: ${INSTALL_HINT}`) : error);
        });
        child.once("exit", (code, signal) => {
          fail(new Error(`redis-server on port ${this.port} exited during start (code ${code}, signal ${signal}). Output:\n${output}`));
        });
        // Redis logs this line once it listens; waiting for it avoids polling the port.
        // `collect` runs first, so `output` already holds this chunk (and a line split across chunks).
        const onData = (): void => {
          if (!output.includes("Ready to accept connections")) return;
          child.stdout?.off("data", onData);
          sendInline(this.port, "PING", this.startTimeoutMs).then((reply) => {
            if (reply === "+PONG") {
              clearTimeout(deadline);
              resolve();
            } else fail(new Error(`redis-server on port ${this.port} answered PING with ${JSON.stringify(reply)}`));
          }, fail);
        };
        child.stdout?.on("data", onData);
      });
    } catch (error) {
      this.killNow();
      await this.exited;
      throw error;
    }
    this.setState("running");
  }

  async shutdown(options: RedisShutdownOptions = {}): Promise<void> {
    if (this.state !== "running") throw new Error(`redis-server on port ${this.port} is ${this.state}; shutdown() needs it running`);
    this.setState("stopping");
    const command = options.save === false ? "SHUTDOWN NOSAVE" : "SHUTDOWN SAVE";
    // A successful SHUTDOWN closes the connection without a reply; an error reply means it refused.
    // The server may reset the connection as it exits; that is success too.
    const reply = await sendInline(this.port, command, this.stopTimeoutMs).catch(() => "");
    if (reply.startsWith("-")) {
      this.setState("running");
      throw new Error(`redis-server on port ${this.port} refused ${command}: ${reply}`);
    }
    await this.waitForExit();
  }

  async kill(signal: RedisKillSignal = "SIGKILL"): Promise<void> {
    const pid = this.child?.pid;
    if (this.state !== "running" || pid === undefined)
      throw new Error(`redis-server on port ${this.port} is ${this.state}; kill() needs it running`);
    this.setState("stopping");
    process.kill(pid, signal);
    await this.waitForExit();
  }

  async restart(options: RedisShutdownOptions = {}): Promise<void> {
    await this.shutdown(options);
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      process.kill(pid, "SIGTERM");
      const exited = await Promise.race([this.exited.then(() => true), delay(this.stopTimeoutMs).then(() => false)]);
      if (!exited) {
        process.kill(pid, "SIGKILL");
        await this.exited;
      }
    }
    this.setState("stopped");
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort for the exit hook and failed starts: SIGKILL by PID. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone: nothing to clean up.
      }
    }
  }

  private async waitForExit(): Promise<void> {
    const exited = await Promise.race([this.exited.then(() => true), delay(this.stopTimeoutMs).then(() => false)]);
    if (!exited)
      throw new Error(
        `redis-server on port ${this.port} (pid ${this.child?.pid}) did not exit within ${this.stopTimeoutMs} ms (stopTimeoutMs)`,
      );
  }
}

async function delay(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Start a private redis-server for a test on a free port of 127.0.0.1 and resolve once it answers
 * PING. Rejects with "install redis-server: apt-get install redis-server" when the binary is
 * missing. Call `stop()` in the test's teardown; an exit hook kills whatever is left.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer();
 * try { ...use redis.url... } finally { await redis.stop(); }
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  installExitHook();
  // The free port can be taken by another process between the probe and redis binding it (the
  // machine runs several test suites at once). That race is the launcher's, not the code under
  // test's, so a few fresh ports are tried before giving up.
  const attempts = 3;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const server = new RedisServerProcess(await freePort(), options);
    try {
      await server.start();
      return server;
    } catch (error) {
      await server.stop();
      lastError = error;
      if (!(error instanceof Error && error.message.includes("Address already in use"))) throw error;
    }
  }
  throw lastError;
}
