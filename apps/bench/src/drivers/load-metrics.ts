import { Histogram, type HistogramData } from "../histogram.js";
import { parseStamp, wallClock } from "./edit-generator.js";

/** What one driver process measured in the window, as sent to the parent. */
export interface LoadMetricsData {
  /** Acks received inside the measurement window. */
  readonly acks: number;
  /** Submit-to-ack latency of ops acknowledged inside the window, ms. */
  readonly ack: HistogramData;
  /** Submit-to-receipt latency of other clients' ops, sender on the receiver's instance, ms. */
  readonly broadcastSame: HistogramData;
  /** The same, sender on another instance, ms. */
  readonly broadcastCross: HistogramData;
  /** Acks or ops whose revision was not the next one (protocol guarantee 1 broken). */
  readonly orderViolations: number;
  /** `error` messages and other failures seen by clients, by code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Frames received inside the window, and the messages they held (batches hold several). */
  readonly frames: number;
  readonly messages: number;
  /** The first description of each error code, for diagnosis. */
  readonly errorSamples: readonly string[];
  /** CPU share of one core used by the driver process in the window. */
  readonly driverCpu: number;
  /** Presence load: `presence` messages sent, and received (with the peer entries they held), in the window. */
  readonly presence: { readonly sent: number; readonly messages: number; readonly entries: number };
}

/**
 * Measurements shared by all load clients of one driver process. Samples are kept only inside
 * the window `[from, to)` (wall clock, ms), so connection set-up, warm-up and drain do not count.
 */
export class LoadMetrics {
  readonly #ack = new Histogram();
  readonly #same = new Histogram();
  readonly #cross = new Histogram();
  readonly #errors: Record<string, number> = {};
  readonly #errorSamples: string[] = [];
  #acks = 0;
  #frames = 0;
  #messages = 0;
  #orderViolations = 0;
  #from = Infinity;
  #to = Infinity;
  #cpuAtFrom: NodeJS.CpuUsage | undefined;
  #cpuFromAt = 0;
  #cpu = Number.NaN;
  readonly #presence = { sent: 0, messages: 0, entries: 0 };

  /** Set the measurement window (wall clock, ms). */
  setWindow(from: number, to: number): void {
    this.#from = from;
    this.#to = to;
  }

  /** The window opens now: start counting the process's CPU time. */
  windowOpened(): void {
    this.#cpuAtFrom = process.cpuUsage();
    this.#cpuFromAt = performance.now();
  }

  /** The window closes now: the CPU share since {@link windowOpened}. */
  windowClosed(): void {
    if (this.#cpuAtFrom === undefined) return;
    const used = process.cpuUsage(this.#cpuAtFrom);
    this.#cpu = (used.user + used.system) / 1000 / (performance.now() - this.#cpuFromAt);
  }

  #inWindow(t: number): boolean {
    return t >= this.#from && t < this.#to;
  }

  /** An ack arrived (at `now`, wall clock) for an op submitted at `sentAt`. */
  ack(sentAt: number, now = wallClock()): void {
    if (!this.#inWindow(now)) return;
    this.#acks += 1;
    this.#ack.record(now - sentAt);
  }

  /**
   * Another client's op arrived at a client of `instance`: find the stamp in `inserted` (the
   * op's insert text) and record the latency as same- or cross-instance. `now`: when it
   * arrived, if the caller has read the clock already.
   */
  broadcast(inserted: string, instance: number, now = wallClock()): void {
    if (!this.#inWindow(now)) return;
    const stamp = parseStamp(inserted);
    if (stamp === undefined) return;
    (stamp.instance === instance ? this.#same : this.#cross).record(now - stamp.sentAt);
  }

  /** A frame holding `messages` messages arrived. */
  frame(messages: number): void {
    if (!this.#inWindow(wallClock())) return;
    this.#frames += 1;
    this.#messages += messages;
  }

  /** Messages arrived (at `now`), for a client that does not see frames (the transport unwraps batches). */
  received(messages: number, now = wallClock()): void {
    if (!this.#inWindow(now)) return;
    this.#messages += messages;
  }

  /** A `presence` message went out. */
  presenceSent(): void {
    if (this.#inWindow(wallClock())) this.#presence.sent += 1;
  }

  /** A `presence` message holding `entries` peers arrived. */
  presenceReceived(entries: number): void {
    if (!this.#inWindow(wallClock())) return;
    this.#presence.messages += 1;
    this.#presence.entries += entries;
  }

  /** A revision arrived out of order. */
  orderViolation(): void {
    this.#orderViolations += 1;
  }

  /** A client met an error (`code`: a protocol error code or a short failure name; `detail`: what happened). */
  error(code: string, detail?: string): void {
    this.#errors[code] = (this.#errors[code] ?? 0) + 1;
    // One sample per code is enough to tell what happened; a run may see thousands.
    if (detail !== undefined && this.#errors[code] === 1) this.#errorSamples.push(`${code}: ${detail}`);
  }

  /** The serialisable figures. */
  toJSON(): LoadMetricsData {
    return {
      acks: this.#acks,
      ack: this.#ack.toJSON(),
      broadcastSame: this.#same.toJSON(),
      broadcastCross: this.#cross.toJSON(),
      orderViolations: this.#orderViolations,
      frames: this.#frames,
      messages: this.#messages,
      errors: { ...this.#errors },
      errorSamples: [...this.#errorSamples],
      driverCpu: this.#cpu,
      presence: { ...this.#presence },
    };
  }
}
