import { createServer as createTcpServer, type Server as TcpServer, type Socket as TcpSocket } from "node:net";
import type { AddressInfo } from "node:net";
import type { TransportCloseEvent } from "@open-ot/core";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import NodeWebSocket from "ws";
import { WebSocketTransportError, WebSocketTransport, type WebSocketConstructor } from "../src/index.js";
import { deadPort, startEchoServer, type EchoServer } from "./echo-server.js";
import { waitUntil } from "@open-ot/harness";

type Message = { type: string; t?: unknown; batch?: unknown[] };

/** Resolve with what `promise` rejected with; fail if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<WebSocketTransportError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WebSocketTransportError);
    return error as WebSocketTransportError;
  }
  throw new Error("expected the promise to reject");
}

describe("WebSocketTransport", () => {
  let server: EchoServer;
  const transports: WebSocketTransport<Message>[] = [];
  const make = (url = server.url, options?: ConstructorParameters<typeof WebSocketTransport>[1]) => {
    const transport = new WebSocketTransport<Message>(url, options);
    transports.push(transport);
    return transport;
  };

  beforeEach(async () => {
    server = await startEchoServer();
  });
  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.disconnect()));
    await server.close();
  });

  it("connects, sends, and receives", async () => {
    const received: Message[] = [];
    const transport = make();
    await transport.connect((m) => received.push(m));
    expect(transport.status).toBe("open");
    await transport.send({ type: "ping", t: "hello" });
    await waitUntil(() => received.length === 1, "pong");
    expect(received).toEqual([{ type: "pong", t: "hello" }]);
  });

  it("unwraps a batched frame into one onReceive call per element, in order", async () => {
    const received: unknown[] = [];
    const transport = make();
    await transport.connect((m) => received.push(m));
    const batch = [
      { type: "op", revision: 1 },
      { type: "op", revision: 2 },
      { type: "ack", revision: 3 },
    ];
    await transport.send({ type: "echo-batch", batch });
    await waitUntil(() => received.length === 3, "batch");
    expect(received).toEqual(batch);
  });

  it("rejects with kind unreachable when nothing listens (ECONNREFUSED)", async () => {
    const port = await deadPort();
    const transport = make(`ws://127.0.0.1:${port}/ws`);
    const error = await rejection(transport.connect(() => {}));
    expect(error.kind).toBe("unreachable");
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(transport.status).toBe("closed");
  });

  it("rejects with kind refused and the HTTP status when the upgrade is refused (401)", async () => {
    server.refuseWith(401, "token expired");
    const transport = make();
    const error = await rejection(transport.connect(() => {}));
    expect(error.kind).toBe("refused");
    expect(error.status).toBe(401);
    expect(error.message).toContain("token expired");
    expect(error.message).toContain("token");
  });

  describe("against a TCP server that accepts but never answers", () => {
    let silent: TcpServer;
    const sockets = new Set<TcpSocket>();
    let url: string;
    beforeEach(async () => {
      silent = createTcpServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      url = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/ws`;
    });
    afterEach(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it("rejects with kind timeout after connectTimeoutMs", async () => {
      const transport = make(url, { connectTimeoutMs: 150 });
      const error = await rejection(transport.connect(() => {}));
      expect(error.kind).toBe("timeout");
      expect(error.message).toContain("connectTimeoutMs");
      expect(transport.status).toBe("closed");
    });

    it("disconnect() during the attempt rejects connect() with kind closed", async () => {
      const transport = make(url);
      const connecting = transport.connect(() => {});
      await waitUntil(() => sockets.size === 1, "TCP connection");
      await transport.disconnect();
      const error = await rejection(connecting);
      expect(error.kind).toBe("closed");
      expect(transport.status).toBe("closed");
    });
  });

  it("shares one attempt between concurrent connect() calls", async () => {
    const transport = make();
    const first = transport.connect(() => {});
    const second = transport.connect(() => {});
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await transport.connect(() => {});
    expect(server.upgrades).toHaveLength(1);
  });

  it("delivers to the onReceive of the latest connect() call", async () => {
    const first: Message[] = [];
    const second: Message[] = [];
    const transport = make();
    await Promise.all([transport.connect((m) => first.push(m)), transport.connect((m) => second.push(m))]);
    await transport.send({ type: "ping", t: 1 });
    await waitUntil(() => second.length === 1, "pong");
    expect(first).toEqual([]);
  });

  it("sends the token as a query parameter by default", async () => {
    const transport = make(`${server.url}?docId=a`, { token: "s3cr&t" });
    await transport.connect(() => {});
    const url = new URL(server.upgrades[0]!.url, "http://x");
    expect(url.searchParams.get("token")).toBe("s3cr&t");
    expect(url.searchParams.get("docId")).toBe("a");
  });

  it("sends the token as an Authorization header and custom headers in Node", async () => {
    const transport = make(server.url, { token: "abc", tokenPlacement: "header", headers: { "X-Trace": "t-1" } });
    await transport.connect(() => {});
    const { url, headers } = server.upgrades[0]!;
    expect(headers.authorization).toBe("Bearer abc");
    expect(headers["x-trace"]).toBe("t-1");
    expect(new URL(url, "http://x").searchParams.has("token")).toBe(false);
  });

  it("asks a token function on every connect(), and puts what it returns on that connection only", async () => {
    let calls = 0;
    const transport = make(`${server.url}?docId=a`, {
      token: async () => {
        calls += 1;
        await new Promise<void>((resolve) => setImmediate(resolve));
        return `fresh-${calls}`;
      },
    });
    await transport.connect(() => {});
    await transport.disconnect();
    await transport.connect(() => {});
    expect(calls).toBe(2);
    expect(server.upgrades.map((u) => new URL(u.url, "http://x").searchParams.get("token"))).toEqual(["fresh-1", "fresh-2"]);
    expect(new URL(server.upgrades[1]!.url, "http://x").searchParams.get("docId")).toBe("a");
  });

  it("sends a token function's token as an Authorization header with tokenPlacement header; undefined sends none", async () => {
    const tokens = ["abc", undefined];
    const transport = make(server.url, { token: () => tokens.shift(), tokenPlacement: "header" });
    await transport.connect(() => {});
    await transport.disconnect();
    await transport.connect(() => {});
    expect(server.upgrades.map((u) => u.headers.authorization)).toEqual(["Bearer abc", undefined]);
  });

  it("rejects connect() with kind token, opening nothing, when the token function fails or returns garbage", async () => {
    const failing = make(server.url, { token: () => Promise.reject(new Error("token service down")) });
    const error = await rejection(failing.connect(() => {}));
    expect(error.kind).toBe("token");
    expect(error.message).toMatch(/token service down/);
    expect(error.cause).toBeInstanceOf(Error);
    expect(failing.status).toBe("closed");
    const empty = make(server.url, { token: () => "" });
    expect((await rejection(empty.connect(() => {}))).message).toMatch(/empty string/);
    expect(server.upgrades).toHaveLength(0);
  });

  it("offers the given subprotocols", async () => {
    const transport = make(server.url, { protocols: ["openot.v1"] });
    await transport.connect(() => {});
    expect(server.upgrades[0]!.headers["sec-websocket-protocol"]).toBe("openot.v1");
  });

  it("rejects send() before connect with not_open and after disconnect with closed", async () => {
    const transport = make();
    expect((await rejection(transport.send({ type: "ping" }))).kind).toBe("not_open");
    await transport.connect(() => {});
    await transport.disconnect();
    expect((await rejection(transport.send({ type: "ping" }))).kind).toBe("closed");
  });

  it("rejects send() of a message with no JSON form with kind encode", async () => {
    const transport = make();
    await transport.connect(() => {});
    const cyclic: Record<string, unknown> = { type: "ping" };
    cyclic.self = cyclic;
    expect((await rejection(transport.send(cyclic as Message))).kind).toBe("encode");
  });

  it("reports a local disconnect once through onClose, and disconnect() twice is harmless", async () => {
    const events: TransportCloseEvent[] = [];
    const transport = make();
    transport.onClose((event) => events.push(event));
    await transport.connect(() => {});
    const serverSide = [...server.clients][0]!;
    const serverSaw = new Promise<number>((resolve) => serverSide.on("close", (code) => resolve(code)));
    await Promise.all([transport.disconnect(), transport.disconnect()]);
    await transport.disconnect();
    expect(events).toEqual([{ code: 1000, reason: "", local: true }]);
    expect(await serverSaw).toBe(1000);
  });

  it("reports the server's close code and reason through onClose", async () => {
    const transport = make();
    const closed = new Promise<TransportCloseEvent>((resolve) => transport.onClose(resolve));
    const accepted = server.nextConnection();
    await transport.connect(() => {});
    (await accepted).close(4001, "no such document");
    expect(await closed).toEqual({ code: 4001, reason: "no such document", local: false });
    expect(transport.status).toBe("closed");
  });

  it("reports a drop without a close frame as 1006", async () => {
    const transport = make();
    const closed = new Promise<TransportCloseEvent>((resolve) => transport.onClose(resolve));
    const accepted = server.nextConnection();
    await transport.connect(() => {});
    (await accepted).terminate();
    const event = await closed;
    expect(event.code).toBe(1006);
    expect(event.local).toBe(false);
  });

  it("closes and reports 1002 with a decode error when the server sends a frame that is not JSON", async () => {
    const received: unknown[] = [];
    const transport = make();
    const closed = new Promise<TransportCloseEvent>((resolve) => transport.onClose(resolve));
    const accepted = server.nextConnection();
    await transport.connect((m) => received.push(m));
    (await accepted).send("this is not json");
    const event = await closed;
    expect(event.code).toBe(1002);
    expect((event.error as WebSocketTransportError).kind).toBe("decode");
    expect(received).toEqual([]);
    expect(transport.status).toBe("closed");
  });

  it("stops delivering the rest of a batch when onReceive calls disconnect()", async () => {
    const received: unknown[] = [];
    const transport = make();
    await transport.connect((m) => {
      received.push(m);
      void transport.disconnect();
    });
    await transport.send({ type: "echo-batch", batch: [{ n: 1 }, { n: 2 }, { n: 3 }] });
    await waitUntil(() => received.length > 0, "first element");
    await transport.disconnect();
    expect(received).toEqual([{ n: 1 }]);
  });

  it("connects again after a close", async () => {
    const received: Message[] = [];
    const transport = make();
    await transport.connect(() => {});
    await transport.disconnect();
    await transport.connect((m) => received.push(m));
    await transport.send({ type: "ping", t: 2 });
    await waitUntil(() => received.length === 1, "pong");
    expect(received).toEqual([{ type: "pong", t: 2 }]);
    expect(server.upgrades).toHaveLength(2);
  });

  it("gives a throwing onReceive to the logger and keeps delivering", async () => {
    const logged: unknown[] = [];
    const received: unknown[] = [];
    const transport = make(server.url, { logger: { error: (_message, details) => logged.push(details?.error) } });
    await transport.connect((m) => {
      received.push(m);
      if (received.length === 1) throw new Error("app bug");
    });
    await transport.send({ type: "echo-batch", batch: [{ n: 1 }, { n: 2 }] });
    await waitUntil(() => received.length === 2, "both elements");
    expect(logged).toHaveLength(1);
    expect((logged[0] as Error).message).toBe("app bug");
  });

  describe("with a WHATWG WebSocket class (the browser code path)", () => {
    // ws's class implements the WHATWG event API, so it stands in for a browser's WebSocket.
    const WhatwgWebSocket = NodeWebSocket as unknown as WebSocketConstructor;

    it("accepts the DOM WebSocket type", () => {
      expectTypeOf<typeof globalThis.WebSocket>().toExtend<WebSocketConstructor>();
    });

    it("connects, sends, receives, and reports close codes", async () => {
      const received: Message[] = [];
      const transport = make(server.url, { WebSocket: WhatwgWebSocket });
      const closed = new Promise<TransportCloseEvent>((resolve) => transport.onClose(resolve));
      const accepted = server.nextConnection();
      await transport.connect((m) => received.push(m));
      await transport.send({ type: "ping", t: "native" });
      await waitUntil(() => received.length === 1, "pong");
      expect(received).toEqual([{ type: "pong", t: "native" }]);
      (await accepted).close(4029, "slow down");
      expect(await closed).toEqual({ code: 4029, reason: "slow down", local: false });
    });

    it("rejects with kind unreachable for a dead port", async () => {
      const port = await deadPort();
      const transport = make(`ws://127.0.0.1:${port}/ws`, { WebSocket: WhatwgWebSocket });
      expect((await rejection(transport.connect(() => {}))).kind).toBe("unreachable");
    });

    it("refuses headers, which a WHATWG WebSocket cannot send", async () => {
      const transport = make(server.url, { WebSocket: WhatwgWebSocket, headers: { "X-A": "b" } });
      expect((await rejection(transport.connect(() => {}))).kind).toBe("unsupported");
    });
  });

  it("validates its arguments when constructed", () => {
    expect(() => new WebSocketTransport("not a url")).toThrow(TypeError);
    expect(() => new WebSocketTransport("ftp://host/")).toThrow(/ws:\/\//);
    expect(() => new WebSocketTransport("ws://host/", { connectTimeoutMs: 0 })).toThrow(/connectTimeoutMs/);
    expect(() => new WebSocketTransport("ws://host/", { token: "" })).toThrow(/token/);
  });

  it("maps http:// URLs to ws://", async () => {
    const transport = make(server.url.replace("ws://", "http://"));
    await transport.connect(() => {});
    expect(server.upgrades).toHaveLength(1);
  });
});
