import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { ServerMessage } from "@open-ot/core";
import { createSseHandler, type SseHandlerOptions } from "../src/server.js";
import { waitUntil } from "@open-ot/harness";
import { useCleanups } from "@open-ot/testing";
import { serveStubHub, startSseServer } from "./helpers.js";
import { openRawStream, post, type RawStream } from "./raw-stream.js";
import { StubHub } from "./stub-hub.js";

const defer = useCleanups();
const serve = (options: Partial<SseHandlerOptions> = {}): ReturnType<typeof serveStubHub> => serveStubHub(defer, options);

async function stream(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
  const s = await openRawStream(url, headers);
  defer(() => s.close());
  return s;
}

describe("GET /events", () => {
  it("answers an event stream whose first event is the session, with an unguessable id", async () => {
    const { srv, hub } = await serve();
    const a = await stream(`${srv.baseUrl}/events`);
    const b = await stream(`${srv.baseUrl}/events`);
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(a.headers.get("cache-control")).toMatch(/no-cache/);
    expect(a.headers.get("x-accel-buffering")).toBe("no");
    const idA = await a.sessionId();
    const idB = await b.sessionId();
    expect(a.events[0]!.event).toBe("session");
    // The instance holding the stream, then 24 random bytes.
    expect(idA).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{32}$/);
    expect(idB).not.toBe(idA);
    expect(srv.handler.sessionCount).toBe(2);
    // Without docId nothing is joined.
    expect(hub.sessions.map((s) => s.received)).toEqual([[], []]);
  });

  it("joins the document named on the URL, with clientId, revision and batch", async () => {
    const { srv, hub } = await serve();
    await (await stream(`${srv.baseUrl}/events?docId=doc-1&clientId=abcdefghijklmnop&revision=5&batch=1`)).sessionId();
    await waitUntil(() => hub.sessions[0]?.received.length === 1, "hub.sessions[0]?.received.length === 1");
    expect(hub.sessions[0]!.received[0]).toEqual({ type: "join", docId: "doc-1", clientId: "abcdefghijklmnop", revision: 5 });
    expect(hub.sessions[0]!.options).toEqual({ batch: true, remoteAddress: "127.0.0.1", transport: "sse" });
  });

  it("treats Last-Event-ID like revision, and over it", async () => {
    const { srv, hub } = await serve();
    await (await stream(`${srv.baseUrl}/events?docId=doc-1&revision=2`, { "Last-Event-ID": "17" })).sessionId();
    await waitUntil(() => hub.sessions[0]?.received.length === 1, "hub.sessions[0]?.received.length === 1");
    expect(hub.sessions[0]!.received[0]).toEqual({ type: "join", docId: "doc-1", revision: 17 });
  });

  it.each([
    ["a bad docId", "?docId=..%2Fx", "bad_message"],
    ["an empty docId", "?docId=", "bad_message"],
    ["a bad clientId", "?docId=d&clientId=a%20b", "bad_message"],
    ["a negative revision", "?docId=d&revision=-1", "bad_revision"],
  ])("answers %s with HTTP 400 and a JSON error, opening nothing", async (_name, query, code) => {
    const { srv, hub } = await serve();
    const s = await stream(`${srv.baseUrl}/events${query}`);
    expect(s.status).toBe(400);
    expect(s.body).toMatchObject({ type: "error", code });
    expect(srv.handler.sessionCount).toBe(0);
    expect(hub.sessions).toHaveLength(0);
  });

  it("answers a bad token with 401 and opens nothing", async () => {
    const { srv, hub } = await serve({ verifyToken: (token) => token === "t1" });
    const missing = await stream(`${srv.baseUrl}/events`);
    const wrong = await stream(`${srv.baseUrl}/events?token=t2`);
    const right = await stream(`${srv.baseUrl}/events`, { Authorization: "Bearer t1" });
    expect([missing.status, wrong.status, right.status]).toEqual([401, 401, 200]);
    expect(wrong.body).toMatchObject({ code: "unauthorized" });
    await right.sessionId();
    expect(hub.sessions).toHaveLength(1);
  });

  it("puts the revision of acks and ops (the last one for a batch) in the event id", async () => {
    const { srv, hub } = await serve();
    const s = await stream(`${srv.baseUrl}/events?docId=d`);
    await s.sessionId();
    const conn = hub.sessions[0]!.connection;
    conn.send({ type: "joined", docId: "d", revision: 3 });
    conn.send({ type: "op", docId: "d", revision: 4, op: [{ i: "x" }] });
    conn.send({ type: "ack", docId: "d", revision: 5, seq: 1 });
    conn.send({ type: "pong", t: 1 });
    conn.send([
      { type: "op", docId: "d", revision: 6, op: [] },
      { type: "op", docId: "d", revision: 7, op: [] },
    ] as ServerMessage[]);
    await waitUntil(() => s.events.length === 6, "s.events.length === 6");
    expect(s.events.slice(1).map((e) => [e.event, e.id, (JSON.parse(e.data) as { type?: string }).type ?? "batch"])).toEqual([
      ["message", "3", "joined"],
      ["message", "4", "op"],
      ["message", "5", "ack"],
      ["message", undefined, "pong"],
      ["message", "7", "batch"],
    ]);
  });

  it("sends a keep-alive comment at the configured interval", async () => {
    const { srv } = await serve({ keepAliveIntervalMs: 40 });
    const s = await stream(`${srv.baseUrl}/events`);
    await waitUntil(() => s.comments.length >= 2, "two keep-alive comments");
    expect(s.comments[0]).toBe("keep-alive");
  });

  it("forgets the session and closes the hub session when the client goes away", async () => {
    const { srv, hub } = await serve({ keepAliveIntervalMs: 20 });
    const s = await stream(`${srv.baseUrl}/events?docId=d`);
    await s.sessionId();
    expect(srv.handler.sessionCount).toBe(1);
    s.close();
    await waitUntil(() => srv.handler.sessionCount === 0, "the session to be forgotten");
    expect(hub.sessions[0]!.closed).toBe(true);
  });

  it("drops a reader whose unsent output passes maxBufferedBytes", async () => {
    const { srv, hub } = await serve({ maxBufferedBytes: 256 * 1024 });
    const { port } = srv.server.address() as AddressInfo;
    // A client that sends the request and then never reads a byte.
    const req = request({ host: "127.0.0.1", port, path: "/events" });
    req.on("response", (res) => res.pause());
    req.on("error", () => undefined);
    req.end();
    defer(() => void req.destroy());
    await waitUntil(() => hub.sessions.length === 1, "the stream to open");
    const big = "z".repeat(256 * 1024);
    let pushed = 0;
    // Bounded: loopback socket buffers hold a few MiB; 200 x 256 KiB is far more than that.
    while (srv.handler.sessionCount > 0 && pushed < 200) {
      hub.sessions[0]!.connection.send({ type: "pong", t: big });
      pushed++;
    }
    expect(srv.handler.sessionCount).toBe(0);
    expect(hub.sessions[0]!.closed).toBe(true);
  });

  it("passes the hub's close code and reason in a close event, then ends the stream", async () => {
    const { srv, hub } = await serve();
    const s = await stream(`${srv.baseUrl}/events`);
    await s.sessionId();
    hub.closeAll(4029, "rate limited");
    const close = await s.waitForEvent((e) => e.event === "close");
    expect(JSON.parse(close.data)).toEqual({ code: 4029, reason: "rate limited" });
    await waitUntil(() => s.ended, "s.ended");
    expect(srv.handler.sessionCount).toBe(0);
  });

  it("close() ends every stream with 1001 and refuses new ones with 503", async () => {
    const { srv } = await serve();
    const streams = [await stream(`${srv.baseUrl}/events`), await stream(`${srv.baseUrl}/events?docId=x`)];
    for (const s of streams) await s.sessionId();
    await srv.handler.close();
    for (const s of streams) {
      const close = await s.waitForEvent((e) => e.event === "close");
      expect(JSON.parse(close.data)).toMatchObject({ code: 1001 });
    }
    expect(srv.handler.sessionCount).toBe(0);
    expect((await stream(`${srv.baseUrl}/events`)).status).toBe(503);
    await srv.handler.close();
  });

  it("close() waits for the hub to finish what sessions sent, up to closeTimeout, refusing POSTs meanwhile", async () => {
    const { srv, hub } = await serve({ closeTimeoutMs: 200 });
    const s = await stream(`${srv.baseUrl}/events`);
    const sessionId = await s.sessionId();
    // A hub session that never becomes idle: close() must still finish, after closeTimeout.
    hub.sessions[0]!.idle = () => new Promise<void>(() => undefined);
    const closing = srv.handler.close();
    const refused = await post(`${srv.baseUrl}/messages`, { type: "ping" }, { "X-Session-Id": sessionId });
    expect(refused.status).toBe(503);
    // Still open while close() waits for the hub.
    expect(srv.handler.sessionCount).toBe(1);
    await closing;
    expect(srv.handler.sessionCount).toBe(0);
    expect(JSON.parse((await s.waitForEvent((e) => e.event === "close")).data)).toMatchObject({ code: 1001 });
  });
});

describe("POST /messages", () => {
  async function session(options: Partial<Parameters<typeof startSseServer>[0]> = {}) {
    const { srv, hub } = await serve(options);
    const s = await stream(`${srv.baseUrl}/events${options.verifyToken ? "?token=good" : ""}`);
    const sessionId = await s.sessionId();
    return { srv, hub, s, sessionId, url: `${srv.baseUrl}/messages` };
  }

  it("answers 202 with an empty body and hands the messages to the hub; answers arrive on the stream", async () => {
    const { hub, s, sessionId, url } = await session();
    const one = await post(url, { type: "ping", t: "a" }, { "X-Session-Id": sessionId });
    const many = await post(`${url}?sessionId=${sessionId}`, [
      { type: "ping", t: "b" },
      { type: "leave", docId: "d" },
    ]);
    expect([one.status, many.status]).toEqual([202, 202]);
    expect(one.body).toBeUndefined();
    expect(hub.sessions[0]!.received).toEqual([
      { type: "ping", t: "a" },
      { type: "ping", t: "b" },
      { type: "leave", docId: "d" },
    ]);
    await waitUntil(() => s.events.length === 3, "s.events.length === 3");
    expect(s.events.slice(1).map((e) => JSON.parse(e.data) as unknown)).toEqual([
      { type: "pong", t: "a" },
      { type: "pong", t: "b" },
    ]);
  });

  it.each([
    ["not JSON", "{nope"],
    ["a JSON number", "42"],
    ["an array holding a non-object", '[{"type":"ping"}, 1]'],
  ])("answers %s with 400 bad_message and hands nothing over", async (_name, body) => {
    const { hub, sessionId, url } = await session();
    const answer = await post(url, body, { "X-Session-Id": sessionId });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ type: "error", code: "bad_message" });
    expect(hub.sessions[0]!.received).toEqual([]);
  });

  it("answers invalid UTF-8 with 400", async () => {
    const { hub, sessionId, url } = await session();
    const bytes = new Uint8Array([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    const answer = await post(url, bytes, { "X-Session-Id": sessionId });
    expect(answer.status).toBe(400);
    expect(answer.body?.message).toMatch(/UTF-8/);
    expect(hub.sessions[0]!.received).toEqual([]);
  });

  it("answers 400 without a session id and 404 for an unknown one", async () => {
    const { url } = await session();
    expect((await post(url, { type: "ping" })).status).toBe(400);
    const unknown = await post(url, { type: "ping" }, { "X-Session-Id": "not-a-session" });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: "not_found" });
  });

  it("answers 401 for a bad token and 403 for another valid token than the stream's", async () => {
    const { hub, sessionId, url } = await session({ verifyToken: (token) => token === "good" || token === "other" });
    expect((await post(url, { type: "ping" }, { "X-Session-Id": sessionId, Authorization: "Bearer bad" })).status).toBe(401);
    expect((await post(url, { type: "ping" }, { "X-Session-Id": sessionId })).status).toBe(401);
    expect((await post(`${url}?token=other`, { type: "ping" }, { "X-Session-Id": sessionId })).status).toBe(403);
    expect((await post(url, { type: "ping" }, { "X-Session-Id": sessionId, Authorization: "Bearer good" })).status).toBe(202);
    expect(hub.sessions[0]!.received).toHaveLength(1);
  });

  it("answers 413 for a body over maxMessageSize, declared or streamed, and keeps serving", async () => {
    const { hub, sessionId, url } = await session({ maxMessageBytes: 1_024 });
    const big = JSON.stringify({ type: "ping", t: "x".repeat(2_000) });
    const declared = await post(url, big, { "X-Session-Id": sessionId });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ code: "too_large" });
    // Without Content-Length (chunked): reading stops at the limit.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(big.slice(i * 600, (i + 1) * 600)));
        controller.close();
      },
    });
    const streamed = await fetch(url, {
      method: "POST",
      body: chunks,
      headers: { "X-Session-Id": sessionId },
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    await streamed.text();
    expect(hub.sessions[0]!.received).toEqual([]);
    expect((await post(url, { type: "ping" }, { "X-Session-Id": sessionId })).status).toBe(202);
  });

  it("answers 429 with Retry-After over the rate limit, applying nothing of that POST", async () => {
    const { hub, sessionId, url } = await session({ rateLimit: { messagesPerSecond: 1, burst: 3 } });
    expect((await post(url, [{ type: "ping" }, { type: "ping" }], { "X-Session-Id": sessionId })).status).toBe(202);
    const limited = await post(url, [{ type: "ping" }, { type: "ping" }], { "X-Session-Id": sessionId });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: "rate_limited" });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(hub.sessions[0]!.received).toHaveLength(2);
    // More messages in one POST than the burst could ever allow: 413, not a 429 to retry forever.
    expect(
      (
        await post(
          url,
          Array.from({ length: 4 }, () => ({ type: "ping" })),
          { "X-Session-Id": sessionId },
        )
      ).status,
    ).toBe(413);
  });

  it("answers 429 when too many POSTs of one session wait", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { srv, sessionId, url } = await session({
      maxQueuedPosts: 2,
      // The stream's check passes at once; a POST's check waits on the gate, holding the queue.
      verifyToken: async (token, req) => {
        if (req.method === "POST") await gate;
        return token === "good";
      },
    });
    let arrived = 0;
    srv.server.on("request", (req) => {
      if (req.method === "POST") arrived++;
    });
    const headers = { "X-Session-Id": sessionId, Authorization: "Bearer good" };
    const first = post(url, { type: "ping" }, headers);
    const second = post(url, { type: "ping" }, headers);
    // Both are queued as soon as their requests arrive (the handler enqueues synchronously).
    await waitUntil(() => arrived === 2, "two POSTs to arrive");
    const third = await post(url, { type: "ping" }, headers);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("1");
    release();
    expect([(await first).status, (await second).status]).toEqual([202, 202]);
  });

  it("answers 405 for other methods", async () => {
    const { srv } = await serve();
    expect((await fetch(`${srv.baseUrl}/messages`)).status).toBe(405);
    expect((await fetch(`${srv.baseUrl}/events`, { method: "POST", body: "{}" })).status).toBe(405);
  });
});

describe("createSseHandler in a shared server", () => {
  it("calls next() for other paths and answers CORS preflights for allowed origins", async () => {
    const handler = createSseHandler({ hub: new StubHub(), allowedOrigins: ["http://app.example"] });
    let passed = 0;
    const server = createServer((req, res) => {
      if (!handler(req, res, () => passed++)) res.writeHead(200).end("other");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    defer(async () => {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await (await fetch(`${base}/other`)).text()).toBe("other");
    expect(passed).toBe(1);
    const preflight = await fetch(`${base}/messages`, { method: "OPTIONS", headers: { Origin: "http://app.example" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/X-Session-Id/);
    const foreign = await fetch(`${base}/events`, { headers: { Origin: "http://evil.example" } });
    expect(foreign.status).toBe(403);
    await foreign.text();
  });
});
