import { spawn, type ChildProcess } from "node:child_process";
import type { DemoBundle } from "./demo-bundle.js";

/** Options of {@link DemoProcess}. */
export interface DemoProcessOptions {
  readonly bundle: DemoBundle;
  /** REDIS_URL of the instance; in-memory without. */
  readonly redisUrl?: string;
  /** REDIS_CLUSTER of the instance (`host:port,...`): documents on a Redis Cluster. */
  readonly redisCluster?: string;
  /** More flags for the instance (`--history 100000`...). */
  readonly args?: readonly string[];
  /** How long start and stop may take. @default 15000 */
  readonly timeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * One demo instance as a child process on 127.0.0.1, as `pnpm demo` runs it: started on a
 * free port, stopped with SIGTERM (its graceful shutdown), and started again on the same port.
 *
 * Lifecycle: `stopped -> running -> stopped -> running ...` (`start()` and `stop()`).
 */
export class DemoProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  #port = 0;
  #output = "";
  readonly #timeoutMs: number;

  constructor(private readonly options: DemoProcessOptions) {
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // A failed test must not leave servers behind.
      process.once("exit", () => {
        for (const child of live) child.kill("SIGKILL");
      });
    }
  }

  /** The port; 0 before the first start. */
  get port(): number {
    return this.#port;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** What the instance printed, for failure messages. */
  get output(): string {
    return this.#output;
  }

  /** Start the instance (on a free port the first time, on the same port after that); resolves once it listens. */
  async start(): Promise<void> {
    if (this.#child !== undefined) throw new Error("DemoProcess.start(): already running");
    const { bundle, redisUrl, redisCluster, args = [] } = this.options;
    const child = spawn(
      process.execPath,
      [bundle.mainJs, "--port", String(this.#port), "--host", "127.0.0.1", "--public-dir", bundle.publicDir, ...args],
      {
        env: { ...process.env, REDIS_URL: redisUrl ?? "", REDIS_CLUSTER: redisCluster ?? "", PORT: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.#child = child;
    live.add(child);
    this.#exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        live.delete(child);
        if (this.#child === child) this.#child = undefined;
        resolve(code);
      }),
    );
    const exited = this.#exited;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the demo did not start within ${this.#timeoutMs} ms:\n${this.#output}`)),
        this.#timeoutMs,
      );
      const onData = (chunk: Buffer): void => {
        this.#output += chunk.toString("utf8");
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.#output.slice(-2000));
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          this.#port = Number(match[1]);
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", (chunk: Buffer) => (this.#output += chunk.toString("utf8")));
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the demo exited (code ${code}) during start:\n${this.#output}`));
      });
    });
  }

  /** SIGTERM (graceful shutdown) and wait for the process to exit; resolves to its exit code. */
  async stop(): Promise<number | null> {
    const child = this.#child;
    if (child === undefined) return await this.#exited;
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), this.#timeoutMs)));
    const result = await Promise.race([this.#exited, timedOut]);
    clearTimeout(timer);
    if (result === "timeout") {
      child.kill("SIGKILL");
      await this.#exited;
      throw new Error(`the demo did not exit within ${this.#timeoutMs} ms of SIGTERM:\n${this.#output}`);
    }
    return result;
  }
}
