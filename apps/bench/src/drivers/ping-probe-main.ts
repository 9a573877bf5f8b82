/**
 * The attack scenario's other client, in a process of its own: pings the server over WebSocket
 * every `argv[3]` ms and records the round trips until the parent asks it to stop.
 * Arguments: the server's port, the interval in ms.
 */
import WebSocket from "ws";
import { Histogram, type LatencySummary } from "../histogram.js";
import { emitToParent, serveParent } from "../ipc.js";

/** Pings every `interval` ms over its own WebSocket and records the round trips. */
class PingProbe {
  readonly #latency = new Histogram();
  readonly #sent = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly ws: WebSocket,
    interval: number,
  ) {
    ws.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type?: string; t?: string };
      const at = message.type === "pong" && message.t !== undefined ? this.#sent.get(message.t) : undefined;
      if (at === undefined) return;
      this.#sent.delete(message.t!);
      this.#latency.record(performance.now() - at);
    });
    let n = 0;
    this.#timer = setInterval(() => {
      const t = `p${n++}`;
      this.#sent.set(t, performance.now());
      ws.send(JSON.stringify({ type: "ping", t }));
    }, interval);
  }

  static async start(port: number, interval: number): Promise<PingProbe> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.on("error", () => undefined);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    return new PingProbe(ws, interval);
  }

  /** Pings sent and not answered (the last one may still be on its way). */
  get lost(): number {
    return Math.max(0, this.#sent.size - 1);
  }

  summary(): LatencySummary {
    return this.#latency.summary();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.ws.terminate();
  }
}

const probe = await PingProbe.start(Number(process.argv[2]), Number(process.argv[3]));
serveParent({
  stop: (): { latency: LatencySummary; lost: number } => {
    probe.stop();
    return { latency: probe.summary(), lost: probe.lost };
  },
});
emitToParent("ready", {});
