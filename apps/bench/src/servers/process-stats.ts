import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/** Sampling interval of the event-loop delay monitor, ms. */
const LOOP_RESOLUTION_MS = 10;

/** Memory of a process after a full garbage collection, in bytes. */
export interface MemoryAfterGc {
  readonly rss: number;
  readonly heapUsed: number;
  /** Memory held outside the JS heap by JS objects (Buffers of sockets, for example). */
  readonly external: number;
  readonly arrayBuffers: number;
}

/** CPU time and event-loop delay of a process over a measurement window. */
export interface WindowStats {
  /** Wall-clock length of the window in milliseconds. */
  readonly elapsedMs: number;
  /** CPU time (user + system) spent in the window, as a share of one core (1 = one core busy). */
  readonly cpu: number;
  /**
   * Event-loop delay in the window, milliseconds: how late the monitor's 10 ms timer fired
   * (perf_hooks.monitorEventLoopDelay records the whole interval; its 10 ms are taken off).
   */
  readonly loopDelay: { readonly mean: number; readonly p50: number; readonly p99: number; readonly max: number };
}

/**
 * Collect memory after GC (needs `--expose-gc`; without it the figure is taken as is and says
 * so) and per-window CPU use and event-loop delay, for the server processes.
 */
export class ProcessStats {
  readonly #loop: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  #windowStart = performance.now();
  #cpuStart = process.cpuUsage();

  constructor() {
    this.#loop.enable();
  }

  /** Start a new measurement window (clears the loop-delay histogram and the CPU counter). */
  resetWindow(): void {
    this.#loop.reset();
    this.#windowStart = performance.now();
    this.#cpuStart = process.cpuUsage();
  }

  /** Figures of the window since the last {@link resetWindow}. */
  window(): WindowStats {
    const elapsedMs = performance.now() - this.#windowStart;
    const cpu = process.cpuUsage(this.#cpuStart);
    const ns = (v: number): number => (Number.isFinite(v) ? Math.max(0, v / 1e6 - LOOP_RESOLUTION_MS) : Number.NaN);
    return {
      elapsedMs,
      cpu: (cpu.user + cpu.system) / 1000 / Math.max(1, elapsedMs),
      loopDelay: {
        mean: ns(this.#loop.mean),
        p50: ns(this.#loop.percentile(50)),
        p99: ns(this.#loop.percentile(99)),
        max: ns(this.#loop.max),
      },
    };
  }

  /** Run a full GC (twice, so that weak references and finalisers settle) and read the memory. */
  memoryAfterGc(): MemoryAfterGc & { readonly gc: boolean } {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc !== undefined) {
      gc();
      gc();
    }
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, gc: gc !== undefined };
  }
}
