import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { TransportCloseEvent } from "@open-ot/core";
import { HttpSseTransport, HttpSseTransportError } from "../src/index.js";
import type { SseHandlerOptions } from "../src/server.js";
import { waitUntil } from "@open-ot/harness";
import { useCleanups } from "@open-ot/testing";
import { deadPort, serveStubHub } from "./helpers.js";

const defer = useCleanups();
const serve = (options: Partial<SseHandlerOptions> = {}): ReturnType<typeof serveStubHub> => serveStubHub(defer, options);

function transport(baseUrl: string, options: ConstructorParameters<typeof HttpSseTransport>[1] = {}): HttpSseTransport {
  const t = new HttpSseTransport(baseUrl, options);
  defer(() => t.disconnect());
  return t;
}

async function rejection(promise: Promise<unknown>): Promise<HttpSseTransportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HttpSseTransportError);
  return error as HttpSseTransportError;
}

describe("HttpSseTransport: connect", () => {
  it("rejects as unreachable when nothing listens, well within the timeout", async () => {
    const port = await deadPort();
    const t = transport(`http://127.0.0.1:${port}`, { connectTimeout: 5_000 });
    const started = Date.now();
    const error = await rejection(t.connect(() => undefined));
    expect(error.kind).toBe("unreachable");
    expect(error.message).toContain(`127.0.0.1:${port}/events`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rejects as refused with the status when the token is refused (401)", async () => {
    const { srv } = await serve({ verifyToken: (token) => token === "good" });
    const error = await rejection(transport(srv.baseUrl, { token: "bad" }).connect(() => undefined));
    expect(error.kind).toBe("refused");
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/401/);
    expect(error.message).toMatch(/unauthorized/);
    expect(srv.handler.sessionCount).toBe(0);
  });

  it("rejects as refused with 404 for a wrong eventsPath", async () => {
    const { srv } = await serve();
    const error = await rejection(transport(srv.baseUrl, { eventsPath: "/nope" }).connect(() => undefined));
    expect(error).toMatchObject({ kind: "refused", status: 404 });
  });

  it("rejects as timeout when the server accepts TCP but never answers", async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    defer(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as AddressInfo;
    const t = transport(`http://127.0.0.1:${port}`, { connectTimeout: 300 });
    const error = await rejection(t.connect(() => undefined));
    expect(error.kind).toBe("timeout");
    expect(error.message).toMatch(/300 ms/);
    expect(error.message).toMatch(/connectTimeout/);
  });

  it("rejects as timeout when the stream opens but no session event comes", async () => {
    const silent = createHttpServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.flushHeaders();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    defer(
      () =>
        new Promise<void>((resolve) => {
          silent.closeAllConnections();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as AddressInfo;
    const error = await rejection(transport(`http://127.0.0.1:${port}`, { connectTimeout: 300 }).connect(() => undefined));
    expect(error.kind).toBe("timeout");
  });

  it("shares one attempt between concurrent connect() calls", async () => {
    const { srv, hub } = await serve();
    const t = transport(srv.baseUrl);
    const a = t.connect(() => undefined);
    const b = t.connect(() => undefined);
    expect(b).toBe(a);
    await Promise.all([a, b]);
    expect(hub.sessions).toHaveLength(1);
    expect(srv.handler.sessionCount).toBe(1);
  });

  it("sends its headers and token on both requests", async () => {
    const seen: Array<{ method?: string; custom?: string | string[]; token?: string }> = [];
    const { srv } = await serve({
      verifyToken: (token, req) => {
        seen.push({ method: req.method, custom: req.headers["x-custom"], token });
        return token === "secret";
      },
    });
    const t = transport(srv.baseUrl, { token: "secret", headers: { "X-Custom": "yes" } });
    await t.connect(() => undefined);
    await t.send({ type: "ping" });
    expect(seen).toEqual([
      { method: "GET", custom: "yes", token: "secret" },
      { method: "POST", custom: "yes", token: "secret" },
    ]);
  });

  it("asks a token function on every connect() and uses its token on that connection's stream and POSTs", async () => {
    const seen: Array<{ method?: string; token: string }> = [];
    const { srv } = await serve({
      verifyToken: (token, req) => {
        seen.push({ method: req.method, token });
        return token.startsWith("fresh-");
      },
    });
    let calls = 0;
    const t = transport(srv.baseUrl, {
      token: async () => {
        calls += 1;
        await new Promise<void>((resolve) => setImmediate(resolve));
        return `fresh-${calls}`;
      },
    });
    await t.connect(() => undefined);
    await t.send({ type: "ping" });
    await t.disconnect();
    await t.connect(() => undefined);
    await t.send({ type: "ping" });
    expect(calls).toBe(2);
    expect(seen).toEqual([
      { method: "GET", token: "fresh-1" },
      { method: "POST", token: "fresh-1" },
      { method: "GET", token: "fresh-2" },
      { method: "POST", token: "fresh-2" },
    ]);
  });

  it("rejects connect() with kind token, requesting nothing, when the token function fails", async () => {
    const { srv, hub } = await serve();
    const t = transport(srv.baseUrl, { token: () => Promise.reject(new Error("token service down")) });
    const error = await rejection(t.connect(() => undefined));
    expect(error.kind).toBe("token");
    expect(error.message).toMatch(/token service down/);
    expect(error.message).not.toMatch(/token=/);
    expect(hub.sessions).toHaveLength(0);
  });

  it("puts docId, clientId, revision and batch on the stream URL when asked", async () => {
    const { srv, hub } = await serve();
    let revision = 4;
    const t = transport(srv.baseUrl, { docId: "doc-9", clientId: "client_1", revision: () => revision, batch: true });
    await t.connect(() => undefined);
    await waitUntil(() => (hub.sessions[0]?.received.length ?? 0) > 0, "(hub.sessions[0]?.received.length ?? 0) > 0");
    expect(hub.sessions[0]!.received[0]).toEqual({ type: "join", docId: "doc-9", clientId: "client_1", revision: 4 });
    expect(hub.sessions[0]!.options).toEqual({ batch: true, remoteAddress: "127.0.0.1", transport: "sse" });
    await t.disconnect();
    revision = 11;
    await t.connect(() => undefined);
    await waitUntil(() => (hub.sessions[1]?.received.length ?? 0) > 0, "(hub.sessions[1]?.received.length ?? 0) > 0");
    expect(hub.sessions[1]!.received[0]).toMatchObject({ revision: 11 });
  });

  it("refuses clientId or revision without docId", () => {
    expect(() => new HttpSseTransport("http://127.0.0.1:1", { clientId: "a" })).toThrow(/docId/);
  });
});

describe("HttpSseTransport: send", () => {
  it("rejects as not_open before connect and after disconnect", async () => {
    const { srv } = await serve();
    const t = transport(srv.baseUrl);
    expect((await rejection(t.send({ type: "ping" }))).kind).toBe("not_open");
    const connecting = t.connect(() => undefined);
    expect((await rejection(t.send({ type: "ping" }))).message).toMatch(/before connect\(\) resolved/);
    await connecting;
    await t.disconnect();
    expect((await rejection(t.send({ type: "ping" }))).kind).toBe("not_open");
  });

  it("delivers 1,000 parallel sends, all in order", async () => {
    const { srv, hub } = await serve({ rateLimit: false });
    const t = transport(srv.baseUrl);
    const pongs: unknown[] = [];
    await t.connect((m) => pongs.push((m as { t?: unknown }).t));
    const count = 1_000;
    await Promise.all(Array.from({ length: count }, (_, i) => t.send({ type: "ping", t: i })));
    await waitUntil(() => pongs.length === count, "1,000 pongs", 10_000);
    const expected = Array.from({ length: count }, (_, i) => i);
    expect(pongs).toEqual(expected);
    expect(hub.sessions[0]!.received.map((m) => (m as { t: number }).t)).toEqual(expected);
  });

  it("coalesces what queues up behind a POST but never exceeds maxBatchBytes", async () => {
    const posts: number[] = [];
    const { srv, hub } = await serve({ rateLimit: false, maxMessageBytes: 4_096 });
    const counting = (input: string | URL, init?: RequestInit): Promise<Response> => {
      if (init?.method === "POST") posts.push((init.body as string).length);
      return fetch(input, init);
    };
    const t = transport(srv.baseUrl, { fetch: counting, maxBatchBytes: 4_096 });
    await t.connect(() => undefined);
    const filler = "x".repeat(1_000);
    await Promise.all(Array.from({ length: 20 }, (_, i) => t.send({ type: "ping", t: `${i}${filler}` })));
    expect(hub.sessions[0]!.received).toHaveLength(20);
    expect(posts.length).toBeLessThan(20);
    for (const bytes of posts) expect(bytes).toBeLessThanOrEqual(4_096);
  });

  it("rejects with the status and protocol code on a non-2xx answer (413, 400)", async () => {
    const { srv } = await serve({ maxMessageBytes: 1_000 });
    const t = transport(srv.baseUrl);
    await t.connect(() => undefined);
    const tooLarge = await rejection(t.send({ type: "ping", t: "y".repeat(2_000) }));
    expect(tooLarge).toMatchObject({ kind: "rejected", status: 413, code: "too_large" });
    expect(tooLarge.message).toMatch(/413/);
    const notAMessage = await rejection(t.send(42));
    expect(notAMessage).toMatchObject({ kind: "rejected", status: 400, code: "bad_message" });
    // A refused send does not end the connection.
    await t.send({ type: "ping" });
  });

  it("rejects a message with no JSON form as encode, before anything is posted", async () => {
    const { srv, hub } = await serve();
    const t = transport(srv.baseUrl);
    await t.connect(() => undefined);
    expect((await rejection(t.send({ type: "ping", t: 1n }))).kind).toBe("encode");
    expect((await rejection(t.send(undefined))).kind).toBe("encode");
    expect(hub.sessions[0]!.received).toEqual([]);
  });

  it("rejects with 429 and retryAfter when rate limited", async () => {
    const { srv } = await serve({ rateLimit: { messagesPerSecond: 0.5, burst: 2 } });
    const t = transport(srv.baseUrl);
    await t.connect(() => undefined);
    await t.send({ type: "ping" });
    await t.send({ type: "ping" });
    const error = await rejection(t.send({ type: "ping" }));
    expect(error).toMatchObject({ kind: "rejected", status: 429, code: "rate_limited" });
    expect(error.retryAfter).toBe(2);
    expect(error.message).toMatch(/Retry after 2 s/);
  });

  it("ends the connection with 4001 when the server no longer knows the session (404)", async () => {
    const { srv } = await serve();
    // Forget sessions without ending their streams: what a restarted instance behind a sticky
    // proxy looks like to a client.
    const t = transport(srv.baseUrl, {
      fetch: (input, init) =>
        fetch(init?.method === "POST" ? `${srv.baseUrl}/messages?sessionId=gone` : input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), "X-Session-Id": "gone" },
        }),
    });
    const closes: TransportCloseEvent[] = [];
    t.onClose((event) => closes.push(event));
    await t.connect(() => undefined);
    const error = await rejection(t.send({ type: "ping" }));
    expect(error).toMatchObject({ kind: "rejected", status: 404, code: "not_found" });
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ code: 4001, local: false });
    expect((await rejection(t.send({ type: "ping" }))).kind).toBe("not_open");
  });
});

describe("HttpSseTransport: close", () => {
  it("disconnect is safe twice, reports 1000 locally once, and nothing arrives afterwards", async () => {
    const { srv, hub } = await serve();
    const t = transport(srv.baseUrl);
    const got: unknown[] = [];
    const closes: TransportCloseEvent[] = [];
    t.onClose((event) => closes.push(event));
    await t.connect((m) => got.push(m));
    await t.send({ type: "ping", t: "before" });
    await waitUntil(() => got.length === 1, "got.length === 1");
    const session = hub.sessions[0]!;
    await t.disconnect();
    await t.disconnect();
    expect(closes).toEqual([{ code: 1000, reason: "", local: true }]);
    // The server may still try to deliver until it notices the stream is gone.
    session.connection.send({ type: "pong", t: "after" });
    await waitUntil(() => srv.handler.sessionCount === 0, "the server to drop the session");
    expect(session.closed).toBe(true);
    expect(got).toEqual([{ type: "pong", t: "before" }]);
  });

  it("stops delivering a batch's remaining messages once onReceive disconnects", async () => {
    const { srv, hub } = await serve();
    const t = transport(srv.baseUrl);
    const got: unknown[] = [];
    await t.connect((m) => {
      got.push(m);
      void t.disconnect();
    });
    hub.sessions[0]!.connection.send([
      { type: "pong", t: 1 },
      { type: "pong", t: 2 },
    ]);
    await waitUntil(() => got.length > 0, "got.length > 0");
    await waitUntil(() => srv.handler.sessionCount === 0, "srv.handler.sessionCount === 0");
    expect(got).toEqual([{ type: "pong", t: 1 }]);
  });

  it("rejects a connect() under way with kind closed when disconnect() is called", async () => {
    const { srv } = await serve();
    const t = transport(srv.baseUrl);
    const connecting = t.connect(() => undefined);
    await t.disconnect();
    expect(await rejection(connecting)).toMatchObject({ kind: "closed" });
    await t.connect(() => undefined);
  });

  it("reports the server's close code and reason", async () => {
    const { srv, hub } = await serve();
    const t = transport(srv.baseUrl);
    const closes: TransportCloseEvent[] = [];
    t.onClose((event) => closes.push(event));
    await t.connect(() => undefined);
    hub.closeAll(4001, "document not found");
    await waitUntil(() => closes.length > 0, "closes.length > 0");
    expect(closes).toEqual([{ code: 4001, reason: "document not found", local: false }]);
    await waitUntil(() => srv.handler.sessionCount === 0, "srv.handler.sessionCount === 0");
  });

  it("reports 1006 when the stream is cut without a close event, and does not reconnect by itself", async () => {
    const { srv, hub } = await serve();
    const t = transport(srv.baseUrl);
    const closes: TransportCloseEvent[] = [];
    t.onClose((event) => closes.push(event));
    await t.connect(() => undefined);
    srv.server.closeAllConnections();
    await waitUntil(() => closes.length > 0, "closes.length > 0");
    expect(closes[0]).toMatchObject({ code: 1006, local: false });
    expect((await rejection(t.send({ type: "ping" }))).kind).toBe("not_open");
    // A fresh connect() is a new session.
    await t.connect(() => undefined);
    expect(hub.sessions).toHaveLength(2);
  });

  it("lets a POST already on its way settle on its answer after disconnect()", async () => {
    const { srv, hub } = await serve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const t = transport(srv.baseUrl, {
      // The first POST's answer is held back until the test lets it through.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === "POST") await held;
        return response;
      },
    });
    await t.connect(() => undefined);
    const onItsWay = t.send({ type: "ping", t: "on its way" });
    await waitUntil(() => hub.sessions[0]!.received.length === 1, "the server to take the first POST");
    const queued = rejection(t.send({ type: "ping", t: "queued" }));
    await t.disconnect();
    expect(await queued).toMatchObject({ kind: "closed" });
    release();
    await expect(onItsWay).resolves.toBeUndefined();
    expect(hub.sessions[0]!.received).toEqual([{ type: "ping", t: "on its way" }]);
  });

  it("gives up a POST after sendTimeout and ends the connection with 1006", async () => {
    const { srv } = await serve();
    const t = transport(srv.baseUrl, {
      sendTimeout: 100,
      fetch: (input, init) =>
        init?.method === "POST"
          ? new Promise<Response>((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason as Error)))
          : fetch(input, init),
    });
    const closes: TransportCloseEvent[] = [];
    t.onClose((event) => closes.push(event));
    await t.connect(() => undefined);
    const error = await rejection(t.send({ type: "ping" }));
    expect(error.kind).toBe("timeout");
    expect(error.message).toMatch(/sendTimeout/);
    expect(closes).toMatchObject([{ code: 1006, local: false }]);
  });

  it("ends the connection with 1002 when the server sends an event that is not JSON", async () => {
    const odd = createHttpServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write('event: session\ndata: {"sessionId":"s"}\n\n');
      setImmediate(() => res.write("data: not json\n\n"));
    });
    await new Promise<void>((resolve) => odd.listen(0, "127.0.0.1", resolve));
    defer(
      () =>
        new Promise<void>((resolve) => {
          odd.closeAllConnections();
          odd.close(() => resolve());
        }),
    );
    const t = transport(`http://127.0.0.1:${(odd.address() as AddressInfo).port}`);
    const closes: TransportCloseEvent[] = [];
    t.onClose((event) => closes.push(event));
    const got: unknown[] = [];
    await t.connect((m) => got.push(m));
    await waitUntil(() => closes.length > 0, "closes.length > 0");
    expect(closes[0]).toMatchObject({ code: 1002, local: false });
    expect((closes[0]!.error as HttpSseTransportError).kind).toBe("decode");
    expect(got).toEqual([]);
  });

  it("rejects sends still queued when the connection ends", async () => {
    const { srv } = await serve({ rateLimit: false });
    const t = transport(srv.baseUrl);
    await t.connect(() => undefined);
    const sends = Array.from({ length: 50 }, (_, i) => t.send({ type: "ping", t: i }));
    await t.disconnect();
    const outcomes = await Promise.allSettled(sends);
    const rejected = outcomes.filter((o) => o.status === "rejected");
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(r.reason).toMatchObject({ kind: "closed" });
  });
});
