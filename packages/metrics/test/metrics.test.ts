// Scrapes the Prometheus endpoint of a real server (WebSocket and SSE bindings, a second
// instance on the same store) after a known workload, and checks the counts.
import { readFile } from "node:fs/promises";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { waitUntil } from "@open-ot/harness";
import { combineMetrics, Hub, InProcessPubSub, MemoryBackend, Server, type CommitNotice } from "@open-ot/server";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { createSseHandler } from "@open-ot/transport-http-sse/server";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import type { Attributes, Span, SpanOptions, Tracer } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { createPrometheusMetrics, type PrometheusMetrics } from "../src/index.js";
import { createTracingMetrics } from "../src/tracing.js";

const DOC = "metered";

/** The value of one sample of the Prometheus text, or undefined when it is not there. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value) && Object.keys(found).length === Object.keys(labels).length) {
      return Number(match[3]);
    }
  }
  return undefined;
}

interface Instance {
  readonly url: string;
  close(): Promise<void>;
}

async function startInstance(backend: MemoryBackend, metrics?: PrometheusMetrics): Promise<Instance> {
  const server = new Server(backend, metrics === undefined ? {} : { metrics });
  // A notice lost on the pub/sub is read from history after 10 ms.
  const hub = new Hub({ server, createOnJoin: true, sequencer: { lostNoticeDelayMs: 10 } });
  const http: HttpServer = createServer();
  const ws = attachWebSocketServer({ hub, server: http });
  const sse = createSseHandler({ hub });
  http.on("request", (req, res) => {
    if (metrics?.handler(req, res)) return;
    if (!sse(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await Promise.all([ws.close(), sse.close()]);
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

describe("Prometheus metrics", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it("counts connections, joins, commits, acks, refusals, retries, gap repairs and store calls of a known workload", async () => {
    // Lose the first commit notice of the client on the other instance, so this instance must
    // repair the gap from history.
    let dropped = false;
    let remoteClientId = "";
    const pubsub = new InProcessPubSub({
      dropIf: (_channel, message: CommitNotice) => {
        if (dropped || message.clientId !== remoteClientId) return false;
        dropped = true;
        return true;
      },
    });
    const backend = new MemoryBackend({ pubsub });
    const metrics = createPrometheusMetrics();
    const here = await startInstance(backend, metrics);
    const there = await startInstance(backend);
    cleanup.push(
      () => there.close(),
      () => here.close(),
    );

    const client = (transport: WebSocketTransport | HttpSseTransport): OTClient<string, TextOp> => {
      const c = new OTClient<string, TextOp>({ type: TextType, transport, docId: DOC });
      cleanup.push(() => c.disconnect());
      return c;
    };
    const ws1 = client(new WebSocketTransport(`${here.url.replace("http", "ws")}/ws`));
    const ws2 = client(new WebSocketTransport(`${here.url.replace("http", "ws")}/ws`));
    const sse1 = client(new HttpSseTransport(here.url));
    const remote = client(new WebSocketTransport(`${there.url.replace("http", "ws")}/ws`));
    remoteClientId = remote.clientId;
    for (const c of [ws1, ws2, sse1, remote]) await c.connect();
    const all = [ws1, ws2, sse1, remote];
    const edit = async (c: OTClient<string, TextOp>, text: string): Promise<void> => {
      c.submit([{ r: c.snapshot.length }, { i: text }]);
      await waitUntil(
        () => all.every((other) => other.synced && other.revision === c.revision && other.snapshot === c.snapshot),
        `${text} everywhere`,
      );
    };
    for (const text of ["a", "b", "c"]) await edit(ws1, text);
    for (const text of ["d", "e"]) await edit(sse1, text);
    // Committed on the other instance, and its notice lost on the way here: this instance's
    // clients and cache do not know of it, so the next commit here loses the race once, and the
    // missing revision is read from history when the one after it arrives.
    remote.submit([{ r: remote.snapshot.length }, { i: "f" }]);
    await waitUntil(() => remote.synced && remote.snapshot.endsWith("f"), "f acked");
    expect(ws1.revision).toBe(5);
    await edit(ws1, "g");
    await edit(ws1, "h");
    expect(ws1.snapshot).toBe("abcdefgh");

    // One invalid op on a connection of its own, and one POST for a session that does not exist.
    const raw = new WebSocketTransport<Record<string, unknown>>(`${here.url.replace("http", "ws")}/ws`);
    const answers: Record<string, unknown>[] = [];
    await raw.connect((message) => answers.push(message));
    await raw.send({ type: "join", docId: DOC });
    await raw.send({ type: "op", docId: DOC, revision: 0, op: [{ d: 1000 }] });
    await waitUntil(() => answers.some((m) => m["type"] === "error"), "the invalid op refused");
    await raw.disconnect();
    const lost = await fetch(`${here.url}/messages`, { method: "POST", headers: { "X-Session-Id": "nobody" }, body: "{}" });
    expect(lost.status).toBe(404);
    await waitUntil(
      async () => sample(await metrics.text(), "openot_connections", { transport: "websocket" }) === 2,
      "the raw connection closed",
    );

    const response = await fetch(`${here.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const value = (name: string, labels?: Record<string, string>): number | undefined => sample(text, name, labels);

    expect(value("openot_connections", { transport: "websocket" })).toBe(2);
    expect(value("openot_connections", { transport: "sse" })).toBe(1);
    expect(value("openot_connections_opened_total", { transport: "websocket" })).toBe(3);
    expect(value("openot_joins_total")).toBe(4);
    // Seven commits made here; the one of the other instance is not this process's.
    expect(value("openot_ops_committed_total")).toBe(7);
    expect(value("openot_ops_delivered_total", { kind: "ack" })).toBe(7);
    expect(value("openot_ack_latency_seconds_count")).toBe(7);
    expect(value("openot_ack_latency_seconds_bucket", { le: "+Inf" })).toBe(7);
    // Ops to the others: 7 own commits to 2 other connections here, plus the remote one to 3.
    expect(value("openot_ops_delivered_total", { kind: "op" })).toBe(7 * 2 + 1 * 3);
    expect(value("openot_refusals_total", { code: "invalid_op", where: "message" })).toBe(1);
    expect(value("openot_refusals_total", { code: "not_found", where: "request" })).toBe(1);
    expect(value("openot_commit_retries_total")).toBe(1);
    expect(value("openot_group_commit_size_sum")).toBe(7);
    expect(value("openot_gap_repairs_total")).toBe(1);
    expect(value("openot_gap_repaired_ops_total")).toBeGreaterThanOrEqual(1);
    const commitCalls =
      (value("openot_backend_call_duration_seconds_count", { method: "commit" }) ?? 0) +
      (value("openot_backend_call_duration_seconds_count", { method: "commitBatch" }) ?? 0);
    // Seven commits and the one that lost the race.
    expect(commitCalls).toBe(8);
    expect(value("openot_backend_call_duration_seconds_count", { method: "getRevision" })).toBeGreaterThan(0);
    // The first join's "not found" (the document is then created) is an answer, not a failure.
    expect(text).not.toMatch(/^openot_backend_errors_total\{/m);
    expect(value("openot_queued_bytes", { transport: "websocket" })).toBeGreaterThanOrEqual(0);
    expect(value("openot_queued_bytes", { transport: "sse" })).toBeGreaterThanOrEqual(0);
    expect(value("openot_presence_entries")).toBe(0);
  });

  it("has every metric the Grafana dashboard in docs/ queries", async () => {
    const dashboard = await readFile(new URL("../../../docs/grafana-dashboard.json", import.meta.url), "utf8");
    const queried = new Set([...dashboard.matchAll(/\bopenot_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")));
    expect(queried.size).toBeGreaterThan(10);
    const names = (await createPrometheusMetrics().registry.getMetricsAsJSON()).map((metric) => metric.name);
    for (const name of queried) expect(names, name).toContain(name);
  });

  it("refuses a maxTrackedCommits that is not a whole number of at least 0", () => {
    expect(() => createPrometheusMetrics({ maxTrackedCommits: -1 })).toThrow(
      new RangeError("createPrometheusMetrics: maxTrackedCommits must be an integer of at least 0, got -1."),
    );
    expect(() => createTracingMetrics({ maxTrackedCommits: 1.5 })).toThrow(
      new RangeError("createTracingMetrics: maxTrackedCommits must be an integer of at least 0, got 1.5."),
    );
    expect(() => createTracingMetrics({ maxTrackedCommits: Infinity })).toThrow(RangeError);
    expect(() => createTracingMetrics({ maxTrackedCommits: 0 })).not.toThrow();
  });

  it("reads registered gauges when scraped, and stops reading them once unregistered", async () => {
    const metrics = createPrometheusMetrics({ prefix: "app_" });
    let entries = 3;
    const stop = metrics.watchPresenceEntries!(() => entries);
    const stopQueued = metrics.watchQueuedBytes!("websocket", () => 120);
    metrics.watchQueuedBytes!("websocket", () => 5);
    expect(sample(await metrics.text(), "app_presence_entries")).toBe(3);
    expect(sample(await metrics.text(), "app_queued_bytes", { transport: "websocket" })).toBe(125);
    entries = 7;
    expect(sample(await metrics.text(), "app_presence_entries")).toBe(7);
    stop();
    stopQueued();
    expect(sample(await metrics.text(), "app_presence_entries")).toBe(0);
    expect(sample(await metrics.text(), "app_queued_bytes", { transport: "websocket" })).toBe(5);
  });
});

interface RecordedSpan {
  readonly name: string;
  readonly attributes: Attributes;
  readonly startTime: unknown;
  ended: boolean;
  status?: number;
}

/** A tracer that keeps its spans in memory: the API's interfaces, no SDK. */
function recordingTracer(spans: RecordedSpan[]): Tracer {
  const tracer = {
    startSpan(name: string, options: SpanOptions = {}): Span {
      const recorded: RecordedSpan = { name, attributes: { ...options.attributes }, startTime: options.startTime, ended: false };
      spans.push(recorded);
      const span = {
        setAttribute(key: string, value: unknown) {
          (recorded.attributes as Record<string, unknown>)[key] = value;
          return span;
        },
        setStatus(status: { code: number }) {
          recorded.status = status.code;
          return span;
        },
        recordException() {},
        end() {
          recorded.ended = true;
        },
      };
      return span as unknown as Span;
    },
  };
  return tracer as unknown as Tracer;
}

describe("OpenTelemetry spans", () => {
  it("wraps every commit in a span and traces each ack from its commit to its delivery", async () => {
    const spans: RecordedSpan[] = [];
    const prometheus = createPrometheusMetrics();
    const backend = new MemoryBackend();
    const server = new Server(backend, { metrics: combineMetrics(prometheus, createTracingMetrics({ tracer: recordingTracer(spans) })) });
    const hub = new Hub({ server, createOnJoin: true });
    const http = createServer();
    const ws = attachWebSocketServer({ hub, server: http });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`;
    const c = new OTClient<string, TextOp>({ type: TextType, transport: new WebSocketTransport(url), docId: "traced" });
    try {
      await c.connect();
      c.submit([{ i: "x" }]);
      await waitUntil(() => c.synced && c.revision === 1, "the first op acked");
      const raw = new WebSocketTransport<unknown>(url);
      await raw.connect(() => undefined);
      await raw.send({ type: "join", docId: "traced", clientId: "refused_client_01" });
      await raw.send({ type: "op", docId: "traced", clientId: "refused_client_01", seq: 1, revision: 1, op: [{ d: 5 }] });
      await waitUntil(() => spans.filter((s) => s.name === "openot.commit").length === 2, "two commit spans");
      await raw.disconnect();
      const [committed, refused] = spans.filter((s) => s.name === "openot.commit");
      expect(committed).toMatchObject({ ended: true, attributes: { "openot.doc_id": "traced", "openot.revision": 1 } });
      expect(committed!.status).toBeUndefined();
      // A refusal is the client's mistake, not a failure of the server: no error status.
      expect(refused).toMatchObject({ ended: true, attributes: { "openot.refusal": "invalid_op" } });
      expect(refused!.status).toBeUndefined();
      const deliver = spans.filter((s) => s.name === "openot.deliver");
      expect(deliver).toHaveLength(1);
      expect(deliver[0]).toMatchObject({ ended: true, attributes: { "openot.doc_id": "traced", "openot.revision": 1 } });
      expect(typeof deliver[0]!.startTime).toBe("number");
      // Both sinks heard of the same commit.
      expect(sample(await prometheus.text(), "openot_ops_committed_total")).toBe(1);
    } finally {
      await c.disconnect();
      await ws.close();
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
