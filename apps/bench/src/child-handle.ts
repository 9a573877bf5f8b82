import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { IpcEvent, IpcMessage, IpcRequest } from "./ipc.js";

/** Options for {@link ChildHandle.start}. */
export interface ChildStartOptions {
  /** Extra `node` flags for the child (for example `--cpu-prof`). @default [] */
  readonly execArgv?: readonly string[];
  /** Milliseconds to wait for the child's `ready` event. @default 20000 */
  readonly readyTimeoutMs?: number;
  /** Environment of the child. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The parent's handle on one forked child (a server or a load driver): typed requests over
 * IPC, the child's `ready` payload, and a stop that waits for the exit.
 */
export class ChildHandle<Ready = unknown> {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly #exited: Promise<number | null>;
  readonly ready: Ready;
  #nextId = 1;

  private constructor(child: ChildProcess, ready: Ready, exited: Promise<number | null>) {
    this.#child = child;
    this.ready = ready;
    this.#exited = exited;
    child.on("message", (message: IpcMessage) => {
      if (message.kind !== "reply") return;
      const waiter = this.#pending.get(message.id);
      if (waiter === undefined) return;
      this.#pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    void exited.then((code) => {
      for (const waiter of this.#pending.values()) {
        waiter.reject(new Error(`child ${child.pid ?? "?"} exited (code ${String(code)}) before answering`));
      }
      this.#pending.clear();
    });
  }

  /**
   * Fork `modulePath` (a file of this package's dist/, relative to this module) with `args` and
   * wait for its `ready` event.
   */
  static async start<Ready>(modulePath: string, args: readonly string[], options: ChildStartOptions = {}): Promise<ChildHandle<Ready>> {
    const file = fileURLToPath(new URL(modulePath, import.meta.url));
    const child = fork(file, [...args], {
      execArgv: [...(options.execArgv ?? [])],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: options.env ?? process.env,
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const timeoutMs = options.readyTimeoutMs ?? 20_000;
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`${modulePath} did not report ready within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on("message", (message: IpcMessage) => {
        if (message.kind === "event" && message.name === "ready") {
          clearTimeout(timer);
          resolve(message.data as Ready);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${modulePath} exited with code ${String(code)} before it was ready`));
      });
    });
    return new ChildHandle<Ready>(child, ready, exited);
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Listen to the child's unasked events (other than `ready`). */
  onEvent(listener: (event: IpcEvent) => void): void {
    this.#child.on("message", (message: IpcMessage) => {
      if (message.kind === "event") listener(message);
    });
  }

  /**
   * Call `method` in the child and wait for its answer, at most `timeoutMs` (then the promise
   * rejects naming the method, so that a stuck child never hangs the whole bench).
   */
  request<T>(method: string, params: unknown = {}, timeoutMs = 180_000): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`child ${this.pid ?? "?"} did not answer ${method} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const settle = {
        resolve: (value: unknown) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#pending.set(id, settle);
      const request: IpcRequest = { kind: "request", id, method, params };
      this.#child.send(request, (error) => {
        if (error === null) return;
        this.#pending.delete(id);
        settle.reject(error);
      });
    });
  }

  /**
   * Ask the child to stop (`stop` request, then disconnect) and wait for it to exit; kill it if
   * it has not exited within `timeoutMs`.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    await this.request("stop", {}, timeoutMs).catch(() => undefined);
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Kill the child at once (SIGKILL) and wait for it to exit. */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill("SIGKILL");
    await this.#exited;
  }
}
