// The binding's own plumbing (upgrade checks, limits, heartbeats, shutdown), against a stub hub.
// The same binding over the real Hub is exercised in hub-binding.test.ts and bad-input.test.ts.
import type { TransportCloseEvent } from "@open-ot/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import NodeWebSocket, { WebSocketServer } from "ws";
import { WebSocketTransportError, WebSocketTransport } from "../src/index.js";
import type { WebSocketServerOptions } from "../src/server.js";
import { attachWebSocketServer } from "../src/server.js";
import { startBindingServer, type BindingServer } from "./binding-server.js";
import { waitUntil } from "@open-ot/harness";
import { rawUpgrade, socketClosed } from "./raw-client.js";
import { createStubHub, type StubHub } from "./stub-hub.js";

type Message = { type: string; t?: unknown; code?: string; seq?: number; docId?: string; [key: string]: unknown };

describe("attachWebSocketServer (stub hub)", () => {
  let server: BindingServer | undefined;
  let hub: StubHub;
  const transports: WebSocketTransport<Message>[] = [];
  const sockets: NodeWebSocket[] = [];

  async function start(options: Omit<WebSocketServerOptions, "server" | "hub"> = {}, defaultDocId?: string): Promise<BindingServer> {
    hub = createStubHub(defaultDocId);
    server = await startBindingServer({ hub, ...options });
    return server;
  }

  function transport(url: string, options?: ConstructorParameters<typeof WebSocketTransport>[1]): WebSocketTransport<Message> {
    const t = new WebSocketTransport<Message>(url, options);
    transports.push(t);
    return t;
  }

  /** Connect a transport that collects what it receives and how it closed. */
  async function client(url: string, options?: ConstructorParameters<typeof WebSocketTransport>[1]) {
    const t = transport(url, options);
    const received: Message[] = [];
    let closeEvent: TransportCloseEvent | undefined;
    t.onClose((event) => (closeEvent = event));
    await t.connect((m) => received.push(m));
    return { transport: t, received, closed: () => closeEvent };
  }

  async function refusal(t: WebSocketTransport<Message>): Promise<WebSocketTransportError> {
    const error = await t
      .connect(() => {})
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(WebSocketTransportError);
    return error as WebSocketTransportError;
  }

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.disconnect()));
    for (const s of sockets.splice(0)) s.terminate();
    await server?.close();
    server = undefined;
  });

  it("serves /ws: frames reach the hub, the hub's messages reach the client", async () => {
    const s = await start();
    const c = await client(s.url());
    await c.transport.send({ type: "ping", t: "a" });
    await waitUntil(() => c.received.length === 1, "pong");
    expect(c.received).toEqual([{ type: "pong", t: "a" }]);
    expect(hub.connections).toHaveLength(1);
    expect(hub.connections[0]!.options).toEqual({ batch: false, remoteAddress: "127.0.0.1", transport: "websocket" });
    expect(s.binding.connectionCount).toBe(1);
  });

  it("tells the hub when a connection ends", async () => {
    const s = await start();
    const c = await client(s.url());
    await c.transport.disconnect();
    await waitUntil(() => s.binding.connectionCount === 0, "the connection to go");
    expect(hub.connections[0]!.closed).toBe(true);
  });

  it("sets the hub's batch option from ?batch=1", async () => {
    const s = await start();
    await client(s.url("/ws?batch=1"));
    expect(hub.connections[0]!.options).toEqual({ batch: true, remoteAddress: "127.0.0.1", transport: "websocket" });
  });

  it("leaves upgrades on other paths to other listeners", async () => {
    const s = await start();
    const other = new WebSocketServer({ noServer: true });
    s.http.on("upgrade", (req, socket, head) => {
      if (req.url === "/other") other.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ type: "other" })));
    });
    const c = await client(s.url("/other"));
    await waitUntil(() => c.received.length === 1, "the other server's message");
    expect(c.received).toEqual([{ type: "other" }]);
    expect(hub.connections).toHaveLength(0);
    other.close();
  });

  describe("root path (legacy OpenOT clients)", () => {
    it("auto-joins the docId in the URL", async () => {
      const s = await start();
      await client(s.url("/?docId=notes.v2"));
      expect(hub.connections[0]!.options).toEqual({
        batch: false,
        autoJoin: "notes.v2",
        remoteAddress: "127.0.0.1",
        transport: "websocket",
      });
    });

    it("auto-joins the hub's default document when the URL names none", async () => {
      const s = await start({}, "main-doc");
      await client(s.url("/"));
      expect(hub.connections[0]!.options).toEqual({
        batch: false,
        autoJoin: "main-doc",
        remoteAddress: "127.0.0.1",
        transport: "websocket",
      });
    });

    it("auto-joins doc-1 when neither the options nor the hub name a default", async () => {
      const s = await start();
      await client(s.url("/"));
      expect(hub.connections[0]!.options?.autoJoin).toBe("doc-1");
    });

    it.each([
      ["a*b", "a%2Ab"],
      ["empty", ""],
      ["../x", "..%2Fx"],
      ["{x}", "%7Bx%7D"],
      ["257 characters", "a".repeat(257)],
    ])("refuses an invalid docId (%s) with HTTP 400 before upgrading", async (_name, docId) => {
      const s = await start();
      const error = await refusal(transport(s.url(`/?docId=${docId}`)));
      expect(error.kind).toBe("refused");
      expect(error.status).toBe(400);
      expect(error.message).toContain("docId");
      expect(hub.connections).toHaveLength(0);
    });

    it("can be turned off", async () => {
      const s = await start({ legacyRootPath: false });
      s.http.on("upgrade", (_req, socket) => {
        if (_req.url === "/") socket.destroy();
      });
      expect((await refusal(transport(s.url("/")))).kind).toBe("unreachable");
      expect(hub.connections).toHaveLength(0);
    });
  });

  describe("token verification", () => {
    const verifyToken = (token: string) => token === "good";

    it("refuses a bad token with HTTP 401 and upgrades nothing", async () => {
      const s = await start({ verifyToken });
      const raw = await rawUpgrade(s.port, "/ws?token=bad");
      expect(raw.status).toBe(401);
      expect(raw.response).toContain("token");
      await socketClosed(raw.socket);
      expect(hub.connections).toHaveLength(0);
      expect(s.binding.connectionCount).toBe(0);
    });

    it("refuses a missing token with HTTP 401", async () => {
      const s = await start({ verifyToken });
      const error = await refusal(transport(s.url()));
      expect(error.status).toBe(401);
      expect(error.message).toMatch(/Missing token/);
      expect(hub.connections).toHaveLength(0);
    });

    it("accepts a good token from the query or an Authorization header, and hands verifyToken the request", async () => {
      const seen: string[] = [];
      const s = await start({
        verifyToken: async (token, request) => {
          seen.push(`${token}@${request.url ?? ""}`);
          return token === "good";
        },
      });
      await client(s.url(), { token: "good" });
      await client(s.url("/ws?x=1"), { token: "good", tokenPlacement: "header" });
      expect(seen).toEqual(["good@/ws?token=good", "good@/ws?x=1"]);
      expect(hub.connections).toHaveLength(2);
    });

    it("answers HTTP 500 when verifyToken throws, and keeps serving", async () => {
      const errors: unknown[] = [];
      const s = await start({
        verifyToken: (token) => {
          if (token === "boom") throw new Error("auth backend down");
          return true;
        },
        logger: { error: (_m, details) => errors.push(details?.error) },
      });
      expect((await refusal(transport(s.url(), { token: "boom" }))).status).toBe(500);
      expect((errors[0] as Error).message).toBe("auth backend down");
      await client(s.url(), { token: "fine" });
      expect(hub.connections).toHaveLength(1);
    });
  });

  describe("origin allow-list", () => {
    it("refuses an origin not on the list with HTTP 403", async () => {
      const s = await start({ allowedOrigins: ["https://app.example"] });
      const error = await refusal(transport(s.url(), { headers: { Origin: "https://evil.example" } }));
      expect(error.status).toBe(403);
      expect(hub.connections).toHaveLength(0);
    });

    it("accepts a listed origin, and clients that send none", async () => {
      const s = await start({ allowedOrigins: ["https://app.example"] });
      await client(s.url(), { headers: { Origin: "https://app.example" } });
      await client(s.url());
      expect(hub.connections).toHaveLength(2);
    });

    it("accepts a predicate", async () => {
      const s = await start({ allowedOrigins: (origin) => origin?.endsWith(".example") === true });
      await client(s.url(), { headers: { Origin: "https://a.example" } });
      expect((await refusal(transport(s.url()))).status).toBe(403);
    });
  });

  it("closes a connection that sends a message over maxMessageBytes with 1009, and keeps serving others", async () => {
    const s = await start({ maxMessageBytes: 1024 });
    const big = await client(s.url());
    const other = await client(s.url());
    await big.transport.send({ type: "ping", t: "x".repeat(2048) });
    await waitUntil(() => big.closed() !== undefined, "the close");
    expect(big.closed()?.code).toBe(1009);
    expect(hub.connections[0]!.frames).toEqual([]);
    await other.transport.send({ type: "ping", t: "still here" });
    await waitUntil(() => other.received.length === 1, "pong");
    expect(other.received).toEqual([{ type: "pong", t: "still here" }]);
  });

  it("accepts a message of exactly maxMessageBytes", async () => {
    const s = await start({ maxMessageBytes: 1024 });
    const c = await client(s.url());
    const envelope = JSON.stringify({ type: "ping", t: "" }).length;
    await c.transport.send({ type: "ping", t: "y".repeat(1024 - envelope) });
    await waitUntil(() => c.received.length === 1, "pong");
    expect(c.closed()).toBeUndefined();
  });

  it("rate limit: answers the first excess messages with rate_limited, then closes with 4029", async () => {
    // A rate so low that no token comes back during the test: exactly `burst` messages pass.
    const s = await start({ rateLimit: { messagesPerSecond: 0.001, burst: 5, maxRefused: 3 } });
    const c = await client(s.url());
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => c.transport.send({ type: "op", docId: "d", seq: i + 1, op: [], revision: 0 }).catch(() => {})),
    );
    await waitUntil(() => c.closed() !== undefined, "the close");
    expect(hub.connections[0]!.frames).toHaveLength(5);
    const errors = c.received.filter((m) => m.type === "error");
    // maxRefused refusals, then one more that is answered and closes the connection.
    expect(errors.map((e) => e.code)).toEqual(["rate_limited", "rate_limited", "rate_limited", "rate_limited"]);
    // Each refusal names the op that was dropped.
    expect(errors.map((e) => e.seq)).toEqual([6, 7, 8, 9]);
    expect(errors[0]?.docId).toBe("d");
    expect(c.closed()?.code).toBe(4029);
  });

  it("rate limit: counts each element of a batch", async () => {
    const s = await start({ rateLimit: { messagesPerSecond: 0.001, burst: 4, maxRefused: 5 } });
    const c = await client(s.url());
    await c.transport.send([
      { type: "ping", t: 1 },
      { type: "ping", t: 2 },
      { type: "ping", t: 3 },
    ] as unknown as Message);
    await c.transport.send([
      { type: "ping", t: 4 },
      { type: "ping", t: 5 },
    ] as unknown as Message);
    await waitUntil(() => c.received.length === 4, "3 pongs and an error");
    expect(c.received.map((m) => m.type)).toEqual(["pong", "pong", "pong", "error"]);
    expect(c.received[3]?.code).toBe("rate_limited");
  });

  it("rate limit: an accepted message resets the count of refusals", async () => {
    // Only the clock is faked (the bucket reads Date.now); timers and I/O stay real.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const s = await start({ rateLimit: { messagesPerSecond: 1, burst: 1, maxRefused: 1 } });
      const c = await client(s.url());
      await c.transport.send({ type: "ping", t: 1 }); // accepted
      await c.transport.send({ type: "ping", t: 2 }); // refused (1 in a row)
      await waitUntil(() => c.received.length === 2, "pong and error");
      vi.setSystemTime(Date.now() + 1_000); // one token back
      await c.transport.send({ type: "ping", t: 3 }); // accepted: resets the count
      await c.transport.send({ type: "ping", t: 4 }); // refused (1 in a row again, not 2)
      await waitUntil(() => c.received.length === 4, "pong and error");
      expect(c.received.map((m) => m.type)).toEqual(["pong", "error", "pong", "error"]);
      expect(c.closed()).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it("terminates a connection that stops answering ping frames, and keeps the others", async () => {
    const s = await start({ pingIntervalMs: 40 });
    const silent = new NodeWebSocket(s.url(), { autoPong: false });
    const healthy = new NodeWebSocket(s.url());
    sockets.push(silent, healthy);
    let healthyPings = 0;
    healthy.on("ping", () => healthyPings++);
    const silentClosed = new Promise<number>((resolve) => silent.on("close", (code) => resolve(code)));
    await Promise.all([silent, healthy].map((ws) => new Promise((resolve) => ws.once("open", resolve))));
    // No close frame: a terminated connection looks like a network drop to the client.
    expect(await silentClosed).toBe(1006);
    await waitUntil(() => healthyPings >= 3, "three pings to the healthy client");
    expect(healthy.readyState).toBe(NodeWebSocket.OPEN);
    expect(s.binding.connectionCount).toBe(1);
  });

  it("close(): sends 1001 to every client, waits for them, and resolves with none left", async () => {
    const s = await start();
    const a = await client(s.url());
    const b = await client(s.url("/?docId=x"));
    await s.binding.close();
    expect(s.binding.connectionCount).toBe(0);
    await waitUntil(() => a.closed() !== undefined && b.closed() !== undefined, "both closes");
    expect(a.closed()).toMatchObject({ code: 1001, reason: "server going away", local: false });
    expect(b.closed()?.code).toBe(1001);
    expect(hub.connections.every((c) => c.closed)).toBe(true);
    await s.binding.close(); // twice is fine
  });

  it("close(): terminates clients that do not answer within closeTimeoutMs and refuses upgrades meanwhile", async () => {
    const s = await start({ closeTimeoutMs: 300 });
    const stuck = await rawUpgrade(s.port, "/ws");
    expect(stuck.status).toBe(101);
    stuck.socket.pause(); // never reads the close frame, never answers it
    await waitUntil(() => s.binding.connectionCount === 1, "the connection");
    const closing = s.binding.close();
    const late = await rawUpgrade(s.port, "/ws");
    expect(late.status).toBe(503);
    await closing;
    expect(s.binding.connectionCount).toBe(0);
    // The server dropped the connection: reading again, the client sees it end.
    stuck.socket.resume();
    await socketClosed(stuck.socket);
  });

  it("closes a slow consumer (1011) once its backlog would pass maxBufferedBytes", async () => {
    const warnings: string[] = [];
    const s = await start({
      maxBufferedBytes: 256 * 1024,
      closeTimeoutMs: 200,
      logger: { warn: (message) => warnings.push(message) },
    });
    const slow = await rawUpgrade(s.port, "/ws");
    slow.socket.pause(); // stops reading: the kernel buffers fill, then ws's buffer grows
    await waitUntil(() => s.binding.connectionCount === 1, "the connection");
    // Ask the stub hub for 32 MiB of pongs (a masked client frame, as RFC 6455 requires).
    const payload = Buffer.from(JSON.stringify({ type: "flood", count: 512, size: 64 * 1024 }));
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
    slow.socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    await waitUntil(() => s.binding.connectionCount === 0, "the slow consumer to be dropped", 10_000);
    expect(warnings).toContain("Closing a WebSocket connection that does not keep up");
    const healthy = await client(s.url());
    await healthy.transport.send({ type: "ping", t: "ok" });
    await waitUntil(() => healthy.received.length === 1, "pong");
  });

  it("answers invalid UTF-8 with bad_message and keeps the connection open", async () => {
    const s = await start();
    const ws = new NodeWebSocket(s.url());
    sockets.push(ws);
    const received: Message[] = [];
    ws.on("message", (data) => received.push(JSON.parse((data as Buffer).toString()) as Message));
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), { binary: false });
    ws.send(JSON.stringify({ type: "ping", t: "after" }));
    await waitUntil(() => received.length === 2, "two answers");
    expect(received[0]).toMatchObject({ type: "error", code: "bad_message" });
    expect(received[0]?.message).toMatch(/UTF-8/);
    expect(received[1]).toEqual({ type: "pong", t: "after" });
    expect(hub.connections[0]!.frames).toEqual([{ type: "ping", t: "after" }]);
  });

  it("answers a frame that is not JSON with bad_message, without troubling the hub", async () => {
    const s = await start();
    const ws = new NodeWebSocket(s.url());
    sockets.push(ws);
    const received: Message[] = [];
    ws.on("message", (data) => received.push(JSON.parse((data as Buffer).toString()) as Message));
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send("{not json");
    await waitUntil(() => received.length === 1, "the error");
    expect(received[0]).toMatchObject({ type: "error", code: "bad_message" });
    expect(hub.connections[0]!.frames).toEqual([]);
  });

  it("hands the hub a JSON string frame as text, so it is not parsed twice", async () => {
    const s = await start();
    const ws = new NodeWebSocket(s.url());
    sockets.push(ws);
    await new Promise((resolve) => ws.once("open", resolve));
    const inner = JSON.stringify({ type: "ping" });
    ws.send(JSON.stringify(inner));
    await waitUntil(() => hub.connections[0]?.frames.length === 1, "the frame");
    expect(hub.connections[0]!.frames).toEqual([JSON.stringify(inner)]);
  });

  it("closes with 1011 when the hub throws on connect, and keeps serving", async () => {
    const s = await start();
    hub.failConnect = true;
    const failing = await client(s.url());
    await waitUntil(() => failing.closed() !== undefined, "the close");
    expect(failing.closed()?.code).toBe(1011);
    hub.failConnect = false;
    await client(s.url());
    expect(hub.connections).toHaveLength(1);
  });

  it("cuts a long close reason from the hub to fit a close frame", async () => {
    const s = await start();
    const c = await client(s.url());
    hub.connections[0]!.connection.close(4001, "é".repeat(200));
    await waitUntil(() => c.closed() !== undefined, "the close");
    expect(c.closed()?.code).toBe(4001);
    expect(c.closed()?.reason).toBe("é".repeat(61));
  });

  it("validates its options", async () => {
    const http = (await import("node:http")).createServer();
    const stub = createStubHub();
    expect(() => startSync({ hub: stub, server: http, path: "/" })).toThrow(/path/);
    expect(() => startSync({ hub: stub, server: http, maxMessageBytes: 0 })).toThrow(/maxMessageBytes/);
    expect(() => startSync({ hub: stub, server: http, rateLimit: { burst: 0.5 } })).toThrow(/burst/);
    expect(() => startSync({ hub: stub, server: http, maxMessageFragments: 0 })).toThrow(
      new RangeError("attachWebSocketServer: maxMessageFragments must be an integer of at least 1, got 0."),
    );
    expect(() => startSync({ hub: stub, server: http, maxMessageFragments: 1.5 })).toThrow(RangeError);
    expect(() => startSync({ hub: stub, server: http, pingIntervalMs: -1 })).toThrow(/pingIntervalMs/);
    expect(() => startSync({ hub: stub, server: http, closeTimeoutMs: Infinity })).toThrow(/closeTimeoutMs/);
    expect(() => startSync({ hub: stub, server: http, closeTimeoutMs: null as unknown as number })).toThrow(TypeError);
    expect(() => startSync({ hub: stub, server: http, defaultDocId: "a/b" })).toThrow(/defaultDocId/);
    expect(http.listenerCount("upgrade")).toBe(0);
  });
});

function startSync(options: WebSocketServerOptions): void {
  attachWebSocketServer(options);
}
