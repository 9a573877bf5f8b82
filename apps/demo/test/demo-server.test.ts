import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { JsonType, type JsonDoc, type JsonOp } from "@open-ot/json";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { waitUntil } from "@open-ot/harness";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { DEMO_DEFAULTS, type DemoConfig } from "../src/demo-config.js";
import { startDemoServer, TODO_DOC, type DemoServer } from "../src/demo-server.js";

let publicDir: string;
let emptyDir: string;
const running: DemoServer[] = [];

beforeAll(async () => {
  publicDir = await mkdtemp(join(tmpdir(), "open-ot-demo-page-"));
  emptyDir = await mkdtemp(join(tmpdir(), "open-ot-demo-empty-"));
  await writeFile(
    join(publicDir, "index.html"),
    '<meta name="open-ot-default-doc" content="{{DEFAULT_DOC}}"><script src="/editor.js"></script>',
  );
  await writeFile(join(publicDir, "editor.js"), "console.log('editor');");
  await writeFile(join(publicDir, "editor.css"), "body{}");
});

afterAll(async () => {
  await rm(publicDir, { recursive: true, force: true });
  await rm(emptyDir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(overrides: Partial<DemoConfig> = {}): Promise<DemoServer> {
  const server = await startDemoServer({ ...DEMO_DEFAULTS, port: 0, host: "127.0.0.1", publicDir, ...overrides });
  running.push(server);
  return server;
}

async function json(url: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  return waitUntil(condition, what, timeoutMs, 20);
}

describe("startDemoServer", () => {
  it("serves the editor page with the default document filled in, and its files", async () => {
    const server = await start({ defaultDoc: "welcome" });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain('content="welcome"');
    const script = await fetch(`${server.url}/editor.js`);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await script.text()).toBe("console.log('editor');");
    const head = await fetch(`${server.url}/editor.css`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, "6"]);
    expect((await fetch(`${server.url}/`, { method: "POST" })).status).toBe(405);
  });

  it("answers unknown paths with 404 and says where things are", async () => {
    const server = await start();
    const { status, body } = await json(`${server.url}/nope`);
    expect(status).toBe(404);
    expect(body).toMatchObject({ type: "error", code: "not_found" });
    expect(body["message"]).toMatch(/\/ws.*\/events/);
  });

  it("still serves the endpoints when the page was not built, and says how to build it", async () => {
    const server = await start({ publicDir: emptyDir });
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/build the demo/);
    expect((await json(`${server.url}/healthz`)).body).toMatchObject({ ok: true, backend: "memory" });
  });

  it("counts the people in a document on /stats, over WebSocket and SSE, and forgets those who leave", async () => {
    const server = await start();
    const stats = async (doc: string): Promise<unknown> => (await json(`${server.url}/stats?doc=${doc}`)).body["connections"];
    expect(await stats("room")).toBe(0);
    const ws = new OTClient<string, TextOp>({
      type: TextType,
      transport: new WebSocketTransport(`${server.url}/ws`),
      docId: "room",
      presence: true,
    });
    const sse = new OTClient<string, TextOp>({
      type: TextType,
      transport: new HttpSseTransport(server.url),
      docId: "room",
      presence: true,
    });
    const other = new OTClient<string, TextOp>({
      type: TextType,
      transport: new WebSocketTransport(`${server.url}/ws`),
      docId: "elsewhere",
    });
    await Promise.all([ws.connect(), sse.connect(), other.connect()]);
    expect(await stats("room")).toBe(2);
    expect(await stats("elsewhere")).toBe(1);
    expect((await json(`${server.url}/healthz`)).body["connections"]).toBe(3);
    // The same people on /metrics: connections by transport, joins, and the presence entries of
    // the two who share where they are (the third takes no part in presence).
    ws.setPresence({ label: "Ada", color: "#c00", ranges: [{ anchor: 0, head: 0 }] });
    sse.setPresence({ label: "Bo", color: "#00c", ranges: [{ anchor: 0, head: 0 }] });
    await waitUntil(() => ws.presence.size === 1 && sse.presence.size === 1, "each sees the other's presence");
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^openot_connections\{transport="websocket"\} 2$/m);
    expect(metrics).toMatch(/^openot_connections\{transport="sse"\} 1$/m);
    expect(metrics).toMatch(/^openot_joins_total 3$/m);
    expect(metrics).toMatch(/^openot_presence_entries 2$/m);
    expect(metrics).toMatch(/^openot_process_cpu_user_seconds_total /m);
    const withCors = await json(`${server.url}/stats?doc=room`);
    expect(withCors.headers.get("access-control-allow-origin")).toBe("*");
    await ws.disconnect();
    await waitFor("the WebSocket client to be forgotten", async () => (await stats("room")) === 1);
    await sse.disconnect();
    await waitFor("the SSE client to be forgotten", async () => (await stats("room")) === 0);
    await other.disconnect();
  });

  it("uses the default document for /stats without ?doc= and refuses a bad one", async () => {
    const server = await start({ defaultDoc: "home" });
    expect((await json(`${server.url}/stats`)).body).toEqual({ docId: "home", connections: 0 });
    const bad = await json(`${server.url}/stats?doc=a%2Fb`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: "bad_message" });
  });

  it("creates documents on first join and serves legacy root-path WebSocket clients on the default document", async () => {
    const server = await start({ defaultDoc: "legacy" });
    const legacy = new WebSocketTransport(`${server.url}/`);
    const received: unknown[] = [];
    await legacy.connect((message) => received.push(message));
    await legacy.send({ type: "op", op: [{ i: "hi" }], revision: 0 });
    await waitFor("the ack", () => received.length > 0);
    expect(received[0]).toMatchObject({ type: "ack", docId: "legacy", revision: 1 });
    await legacy.disconnect();

    const reader = new OTClient<string, TextOp>({ type: TextType, transport: new HttpSseTransport(server.url), docId: "legacy" });
    await reader.connect();
    expect([reader.snapshot, reader.revision]).toEqual(["hi", 1]);
    await reader.disconnect();
  });

  it("closes WebSocket and SSE clients with 1001 on close(), then stops listening", async () => {
    const server = await start();
    const ws = new WebSocketTransport(`${server.url}/ws`);
    const sse = new HttpSseTransport(server.url);
    const codes = Promise.all([ws, sse].map((t) => new Promise<number>((resolve) => t.onClose((event) => resolve(event.code)))));
    await Promise.all([ws.connect(() => undefined), sse.connect(() => undefined)]);
    await Promise.all([server.close(), server.close()]);
    expect(await codes).toEqual([1001, 1001]);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it("applies the configured message size and rate limits to WebSocket and SSE", async () => {
    const server = await start({ maxMessageSize: 2048, rateLimit: 1, rateBurst: 2 });
    // WebSocket: within the burst, then refused with rate_limited.
    const ws = new WebSocketTransport(`${server.url}/ws`);
    const received: { type?: string; code?: string; t?: unknown }[] = [];
    await ws.connect((message) => received.push(message as (typeof received)[number]));
    for (let t = 1; t <= 3; t++) await ws.send({ type: "ping", t });
    await waitFor("two pongs and a refusal", () => received.length === 3);
    expect(received.map((m) => m.type ?? "")).toEqual(["pong", "pong", "error"]);
    expect(received[2]).toMatchObject({ code: "rate_limited" });
    // A frame over the size limit closes the connection with 1009.
    const big = new WebSocketTransport(`${server.url}/ws`);
    const closed = new Promise<number>((resolve) => big.onClose((event) => resolve(event.code)));
    await big.connect(() => undefined);
    await big.send({ type: "ping", t: "x".repeat(4096) });
    expect(await closed).toBe(1009);
    await ws.disconnect();

    // SSE: a POST body over the limit is answered 413.
    const abort = new AbortController();
    const stream = await fetch(`${server.url}/events`, { signal: abort.signal });
    const reader = stream.body!.getReader();
    let text = "";
    while (!/data: (\{.*\})\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    const sessionId = (JSON.parse(/data: (\{.*\})\n/.exec(text)![1]!) as { sessionId: string }).sessionId;
    const post = (body: string): Promise<Response> =>
      fetch(`${server.url}/messages`, { method: "POST", headers: { "X-Session-Id": sessionId, "Content-Type": "application/json" }, body });
    expect((await post(JSON.stringify({ type: "ping", t: 1 }))).status).toBe(202);
    expect((await post(JSON.stringify({ type: "ping", t: "x".repeat(4096) }))).status).toBe(413);
    abort.abort();
  });

  it("says which port is taken and how to choose another", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(start({ port })).rejects.toThrow(new RegExp(`Port ${port} is in use.*--port`));
    } finally {
      blocker.close();
    }
  });

  it("fails to start with a clear message when Redis does not answer", async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await expect(start({ redisUrl: `redis://:secret@127.0.0.1:${port}` })).rejects.toThrow(
      new RegExp(`Cannot use Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}.*REDIS_URL`),
    );
  });

  it("serves the to-do page's document as JSON, next to text documents created on join", async () => {
    const server = await start();
    const todo = new OTClient<JsonDoc, JsonOp>({ type: JsonType, transport: new WebSocketTransport(`${server.url}/ws`), docId: TODO_DOC });
    const text = new OTClient<string, TextOp>({ type: TextType, transport: new WebSocketTransport(`${server.url}/ws`), docId: "notes" });
    try {
      await Promise.all([todo.connect(), text.connect()]);
      expect([todo.snapshot, text.snapshot]).toEqual([{ items: [] }, ""]);
    } finally {
      await Promise.all([todo.disconnect(), text.disconnect()]);
    }
  });
});
