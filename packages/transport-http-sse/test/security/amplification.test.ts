// Issue 16, finding 4, over SSE: a POST is charged whole before any of it is handled and
// answered once, whatever it holds.
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { startHubServer } from "../helpers.js";
import { openRawStream, post, type RawStream } from "../raw-stream.js";

type Srv = Awaited<ReturnType<typeof startHubServer>>;
let server: Srv | undefined;
let stream: RawStream | undefined;
afterEach(async () => {
  stream?.close();
  await server?.close();
  server = undefined;
});

describe("batch amplification over SSE", () => {
  it("answers a 1 MiB POST of 524,287 elements, or of 60,000 pings, with one 413, and sends nothing on the stream", async () => {
    server = await startHubServer();
    stream = await openRawStream(`${server.baseUrl}/events?docId=doc-1`);
    const sessionId = await stream.sessionId();
    const s = stream;
    await waitUntil(() => s.events.length === 2, "the snapshot", 5_000);
    const ones = await post(`${server.baseUrl}/messages`, `[${Array.from({ length: 524_287 }, () => "1").join(",")}]`, {
      "X-Session-Id": sessionId,
    });
    expect(ones.status).toBe(413);
    expect(ones.body).toMatchObject({ code: "too_large" });
    const pings = await post(
      `${server.baseUrl}/messages`,
      Array.from({ length: 60_000 }, () => ({ type: "ping" })),
      { "X-Session-Id": sessionId },
    );
    expect(pings.status).toBe(413);
    expect(pings.body).toMatchObject({ code: "too_large" });
    // The session is still there and answers its next POST; nothing else came on the stream.
    expect((await post(`${server.baseUrl}/messages`, { type: "ping", t: "after" }, { "X-Session-Id": sessionId })).status).toBe(202);
    await waitUntil(() => s.events.length === 3, "the pong", 5_000);
    expect(JSON.parse(s.events[2]!.data)).toEqual({ type: "pong", t: "after" });
  });

  it("refuses a POST over the tokens left whole, with one 429 and nothing handled", async () => {
    server = await startHubServer({ rateLimit: { messagesPerSecond: 0.001, burst: 100 } });
    stream = await openRawStream(`${server.baseUrl}/events`);
    const sessionId = await stream.sessionId();
    const pings = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ type: "ping", t: from + i }));
    const send = (body: unknown) => post(`${server!.baseUrl}/messages`, body, { "X-Session-Id": sessionId });
    expect((await send(pings(0, 60))).status).toBe(202);
    const refused = await send(pings(60, 60));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await send(pings(120, 40))).status).toBe(202);
    const s = stream;
    await waitUntil(() => s.events.length === 101, "100 pongs", 5_000);
    expect(s.events.slice(1).map((e) => (JSON.parse(e.data) as { t: number }).t)).toEqual(
      [...pings(0, 60), ...pings(120, 40)].map((p) => p.t),
    );
  });
});
