// SSE without sticky sessions: POSTs to the instance that does not hold the stream, two
// instances on one real redis-server. The OTClient test behind a random balancer is
// apps/demo/test/shared-sse-sessions.test.ts (it needs the reconnecting transport).
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { RedisAdapter } from "@open-ot/adapter-redis";
import { startRedisServer, type RedisServer } from "@open-ot/harness";
import { Hub, Server } from "@open-ot/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSseHandler, type SseHandler, type SseHandlerOptions } from "../src/server.js";
import { openRawStream, post, type RawStream } from "./raw-stream.js";

interface Instance {
  readonly url: string;
  readonly adapter: RedisAdapter;
  readonly handler: SseHandler;
  close(): Promise<void>;
}

async function startInstance(redisUrl: string, options: Partial<SseHandlerOptions> = {}): Promise<Instance> {
  const adapter = new RedisAdapter(redisUrl);
  const server = new Server(adapter);
  const hub = new Hub({ server, createOnJoin: true });
  const handler = createSseHandler({ hub, sharedSessions: { pubsub: adapter, requestTimeoutMs: 2000 }, ...options });
  const http: HttpServer = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    adapter,
    handler,
    async close() {
      await handler.close();
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await adapter.close();
    },
  };
}

describe("SSE sessions shared by two instances on one Redis", () => {
  let redis: RedisServer;
  const open: { close(): Promise<void> | void }[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const thing of open.splice(0).reverse()) await thing.close();
  });

  async function twoInstances(options: Partial<SseHandlerOptions> = {}): Promise<[Instance, Instance]> {
    const pair = await Promise.all([startInstance(redis.url, options), startInstance(redis.url, options)]);
    open.push(...pair);
    return pair;
  }

  async function stream(instance: Instance, query: string, token?: string): Promise<RawStream> {
    const raw = await openRawStream(`${instance.url}/events?${query}${token === undefined ? "" : `&token=${token}`}`);
    open.push(raw);
    return raw;
  }

  function postTo(instance: Instance, sessionId: string, body: unknown, token?: string): ReturnType<typeof post> {
    return post(`${instance.url}/messages`, body, {
      "X-Session-Id": sessionId,
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
    });
  }

  it("commits an op POSTed to the other instance and acks it on the stream; its refusals arrive on the stream too", async () => {
    const [a, b] = await twoInstances();
    const raw = await stream(a, "docId=refusals&clientId=client_refusals_0001");
    const sessionId = await raw.sessionId();
    await raw.waitForEvent((e) => e.data.includes('"snapshot"'));
    expect(
      (
        await postTo(b, sessionId, {
          type: "op",
          docId: "refusals",
          clientId: "client_refusals_0001",
          seq: 1,
          revision: 0,
          op: [{ i: "hi" }],
        })
      ).status,
    ).toBe(202);
    const ack = await raw.waitForEvent((e) => e.data.includes('"ack"'));
    expect(JSON.parse(ack.data)).toEqual({ type: "ack", docId: "refusals", revision: 1, seq: 1 });
    // Committed by B (the holder never saw the POST), read back from Redis.
    expect((await a.adapter.getRecord("refusals")).data).toBe("hi");

    // A revision ahead of the document: refused, on the stream, with the op's seq.
    expect(
      (
        await postTo(b, sessionId, {
          type: "op",
          docId: "refusals",
          clientId: "client_refusals_0001",
          seq: 2,
          revision: 9,
          op: [{ i: "x" }],
        })
      ).status,
    ).toBe(202);
    const refused = await raw.waitForEvent((e) => e.data.includes('"error"'));
    expect(JSON.parse(refused.data)).toMatchObject({ type: "error", code: "bad_revision", docId: "refusals", seq: 2 });
    // Not JSON at all: refused by B itself, as by the holder.
    expect((await postTo(b, sessionId, "{nope")).status).toBe(400);
    // A resend of seq 1 is a duplicate: no second commit, no second ack.
    expect(
      (
        await postTo(b, sessionId, {
          type: "op",
          docId: "refusals",
          clientId: "client_refusals_0001",
          seq: 1,
          revision: 0,
          op: [{ i: "hi" }],
        })
      ).status,
    ).toBe(202);
    expect((await postTo(b, sessionId, { type: "ping", t: "after" })).status).toBe(202);
    await raw.waitForEvent((e) => e.data.includes('"after"'));
    expect(raw.events.filter((e) => e.data.includes('"ack"'))).toHaveLength(1);
    expect(await a.adapter.getRevision("refusals")).toBe(1);
  });

  it("hands the holder what only it can do: a join on the other instance answers on the stream, and an op for a document the session has not joined is refused", async () => {
    const [a, b] = await twoInstances();
    const raw = await stream(a, "");
    const sessionId = await raw.sessionId();
    expect(
      (await postTo(b, sessionId, { type: "op", docId: "later", clientId: "client_joins_000001", seq: 1, revision: 0, op: [{ i: "no" }] }))
        .status,
    ).toBe(202);
    const notJoined = await raw.waitForEvent((e) => e.data.includes('"error"'));
    expect(JSON.parse(notJoined.data)).toMatchObject({ code: "bad_message", docId: "later", seq: 1 });
    expect((await postTo(b, sessionId, { type: "join", docId: "later", clientId: "client_joins_000001" })).status).toBe(202);
    await raw.waitForEvent((e) => e.data.includes('"snapshot"'));
    expect(
      (await postTo(b, sessionId, { type: "op", docId: "later", clientId: "client_joins_000001", seq: 1, revision: 0, op: [{ i: "yes" }] }))
        .status,
    ).toBe(202);
    await raw.waitForEvent((e) => e.data.includes('"ack"'));
    expect((await a.adapter.getRecord("later")).data).toBe("yes");
  });

  it("refuses a POST on the other instance as strictly as the holder: token, the stream's own token, principal, client, session", async () => {
    const principals: Record<string, string> = { "alice-1": "alice", "alice-2": "alice", "mallory-1": "mallory" };
    const [a, b] = await twoInstances({ verifyToken: (token) => (token in principals ? { principal: principals[token]! } : false) });
    const alice = await stream(a, "docId=secure&clientId=client_alice_000001", "alice-1");
    const aliceSession = await alice.sessionId();
    await alice.waitForEvent((e) => e.data.includes('"snapshot"'));
    const op = (clientId: string, seq: number) => ({
      type: "op",
      docId: "secure",
      clientId,
      seq,
      revision: 0,
      op: [{ i: `${clientId}/${seq}` }],
    });

    expect((await postTo(b, aliceSession, op("client_alice_000001", 1))).status, "no token").toBe(401);
    expect((await postTo(b, aliceSession, op("client_alice_000001", 1), "nobody")).status, "a refused token").toBe(401);
    expect((await postTo(b, aliceSession, op("client_alice_000001", 1), "mallory-1")).status, "another principal's token").toBe(403);
    expect((await postTo(b, aliceSession, op("client_alice_000001", 1), "alice-2")).status, "another token of the same principal").toBe(
      403,
    );
    const unknown = `${aliceSession.slice(0, 17)}${"A".repeat(32)}`;
    expect((await postTo(b, unknown, op("client_alice_000001", 1), "alice-1")).status, "an unknown session of that instance").toBe(404);
    expect(
      (await postTo(b, `${"B".repeat(16)}.${"A".repeat(32)}`, op("client_alice_000001", 1), "alice-1")).status,
      "a session of no instance",
    ).toBe(404);
    expect(await a.adapter.getRevision("secure")).toBe(0);

    // Mallory, on her own session, names Alice's client: her own principal cannot commit under it.
    expect((await postTo(b, aliceSession, op("client_alice_000001", 1), "alice-1")).status).toBe(202);
    await alice.waitForEvent((e) => e.data.includes('"ack"'));
    const mallory = await stream(a, "docId=secure&clientId=client_mallory_0001", "mallory-1");
    const mallorySession = await mallory.sessionId();
    await mallory.waitForEvent((e) => e.data.includes('"snapshot"'));
    expect((await postTo(b, mallorySession, op("client_alice_000001", 2), "mallory-1")).status).toBe(202);
    const refused = await mallory.waitForEvent((e) => e.data.includes('"error"'));
    expect(JSON.parse(refused.data)).toMatchObject({ code: "bad_message", seq: 2 });
    expect(await a.adapter.getRevision("secure")).toBe(1);
    // Nothing reached Alice's stream from Mallory's attempts but Alice's own ack.
    expect(alice.events.filter((e) => e.event === "message").map((e) => (JSON.parse(e.data) as { type: string }).type)).toEqual([
      "snapshot",
      "ack",
    ]);
  });

  it("applies the connection policy's rate limit to ops committed on the other instance", async () => {
    const [a, b] = await twoInstances({ rateLimit: { messagesPerSecond: 1, burst: 2 } });
    const raw = await stream(a, "docId=limited&clientId=client_limited_00001");
    const sessionId = await raw.sessionId();
    await raw.waitForEvent((e) => e.data.includes('"snapshot"'));
    const statuses: number[] = [];
    for (let seq = 1; seq <= 4; seq++) {
      statuses.push(
        (
          await postTo(b, sessionId, {
            type: "op",
            docId: "limited",
            clientId: "client_limited_00001",
            seq,
            revision: seq - 1,
            op: [{ i: "x" }],
          })
        ).status,
      );
    }
    expect(statuses.slice(0, 2)).toEqual([202, 202]);
    expect(statuses.slice(2)).toContain(429);
  });
});
