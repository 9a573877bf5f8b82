// Hostile and malformed input against the SSE binding in front of the real hub. Every case
// checks the documented answer AND that the server still serves another client, with the
// document exactly as it was.
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";
import { startHubServer } from "./helpers.js";
import { openRawStream, post, type RawEvent, type RawStream } from "./raw-stream.js";

const TOKEN = "good-token";
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const INITIAL = "hello";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Srv = Awaited<ReturnType<typeof startHubServer>>;

async function start(): Promise<Srv> {
  const srv = await startHubServer({ text: INITIAL, verifyToken: (token) => token === TOKEN });
  cleanups.push(() => srv.close());
  return srv;
}

async function stream(url: string, headers: Record<string, string> = AUTH): Promise<RawStream> {
  const s = await openRawStream(url, headers);
  cleanups.push(() => s.close());
  return s;
}

const parsed = (e: RawEvent): Array<{ type: string; code?: string; seq?: number; t?: unknown; revision?: number; data?: unknown }> => {
  const value = JSON.parse(e.data) as unknown;
  return (Array.isArray(value) ? value : [value]) as Array<{ type: string }>;
};
const messagesOf = (s: RawStream) => s.events.filter((e) => e.event === "message").flatMap(parsed);

/** The attacker: a stream joined to doc-1, and a way to POST raw bodies on its session. */
async function attacker(srv: Srv) {
  const s = await stream(`${srv.baseUrl}/events?docId=doc-1&clientId=attacker_client_001`);
  const sessionId = await s.sessionId();
  await waitUntil(() => messagesOf(s).some((m) => m.type === "snapshot"), "the attacker's snapshot");
  return {
    s,
    sessionId,
    send: (body: unknown, headers: Record<string, string> = {}) =>
      post(`${srv.baseUrl}/messages`, body, { "X-Session-Id": sessionId, ...AUTH, ...headers }),
    /** The next error event the hub sends to this session. */
    error: async () => {
      let found: ReturnType<typeof parsed>[number] | undefined;
      await waitUntil(() => (found = messagesOf(s).find((m) => m.type === "error")) !== undefined, "an error event");
      return found!;
    },
  };
}

/** Another client joins, edits nothing, round-trips a ping, and sees the document unchanged. */
async function expectStillServing(srv: Srv): Promise<void> {
  expect(await srv.text()).toEqual({ revision: 0, data: INITIAL });
  const other = await stream(`${srv.baseUrl}/events?docId=doc-1&clientId=observer_client_01`);
  const sessionId = await other.sessionId();
  await waitUntil(() => messagesOf(other).some((m) => m.type === "snapshot"), "the observer's snapshot");
  expect(messagesOf(other).find((m) => m.type === "snapshot")).toMatchObject({ revision: 0, data: INITIAL });
  expect((await post(`${srv.baseUrl}/messages`, { type: "ping", t: "alive" }, { "X-Session-Id": sessionId, ...AUTH })).status).toBe(202);
  await waitUntil(() => messagesOf(other).some((m) => m.type === "pong" && m.t === "alive"), "the observer's pong");
  other.close();
}

describe("bad input to POST /messages: refused with HTTP 400, nothing applied", () => {
  it.each([
    ["non-JSON", "{type: 'ping'"],
    ["a JSON number", "42"],
    ["a JSON string", '"ping"'],
    ["an array holding a non-object", '[{"type":"ping","t":"no"}, 7]'],
    ["JSON nested 100,000 levels deep", "[".repeat(100_000) + "]".repeat(100_000)],
    ["an object nested 100,000 levels deep", '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000)],
    ["a message nested 100,000 levels deep", `{"type":"ping","t":${"[".repeat(100_000)}${"]".repeat(100_000)}}`],
  ])("%s", async (_name, body) => {
    const srv = await start();
    const a = await attacker(srv);
    const answer = await a.send(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ type: "error", code: "bad_message" });
    await expectStillServing(srv);
    // Nothing of a refused body reached the hub: no pong for the array's ping.
    expect(messagesOf(a.s).some((m) => m.type === "pong")).toBe(false);
  });

  it("invalid UTF-8", async () => {
    const srv = await start();
    const a = await attacker(srv);
    const body = new Uint8Array([...new TextEncoder().encode('{"type":"ping","t":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    const answer = await a.send(body);
    expect(answer.status).toBe(400);
    expect(answer.body?.message).toMatch(/UTF-8/);
    await expectStillServing(srv);
  });
});

describe("bad messages: accepted (202), refused by the hub with an error event on the stream", () => {
  it.each([
    ["an unknown type", { type: "explode" }, "bad_message"],
    ["an op without op and revision", { type: "op", docId: "doc-1" }, "bad_message"],
    ["a join without docId", { type: "join" }, "bad_message"],
    ["an op with a negative retain", { type: "op", docId: "doc-1", revision: 0, seq: 1, op: [{ r: -1 }] }, "invalid_op"],
    [
      "an op based on a revision ahead of the server",
      { type: "op", docId: "doc-1", revision: 99, seq: 1, op: [{ i: "x" }] },
      "bad_revision",
    ],
    ["a join with a revision ahead of the server", { type: "join", docId: "doc-1", revision: 99 }, "bad_revision"],
  ])("%s", async (_name, message, code) => {
    const srv = await start();
    const a = await attacker(srv);
    expect((await a.send(message)).status).toBe(202);
    const error = await a.error();
    expect(error.code).toBe(code);
    if ("seq" in message) expect(error.seq).toBe(message.seq);
    await expectStillServing(srv);
  });

  it.each([["../x"], ["a*b"], ["{x}"], [""], ["d".repeat(10_000)]])("a join of document id %j", async (docId) => {
    const srv = await start();
    const a = await attacker(srv);
    expect((await a.send({ type: "join", docId })).status).toBe(202);
    expect((await a.error()).code).toBe("bad_message");
    await expectStillServing(srv);
  });
});

describe("bad document ids on the stream URL: HTTP 400, nothing opened", () => {
  it.each([["../x"], ["a*b"], ["{x}"], [""], ["d".repeat(10_000)]])("%j", async (docId) => {
    const srv = await start();
    const s = await stream(`${srv.baseUrl}/events?docId=${encodeURIComponent(docId)}`);
    expect(s.status).toBe(400);
    expect(s.body).toMatchObject({ type: "error", code: "bad_message" });
    expect(srv.handler.sessionCount).toBe(0);
    await expectStillServing(srv);
  });
});

describe("limits and credentials", () => {
  it("a message over the size limit: 413, body not read past the limit", async () => {
    const srv = await start();
    const a = await attacker(srv);
    const answer = await a.send({ type: "ping", t: "x".repeat(1024 * 1024 + 1) });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ code: "too_large" });
    await expectStillServing(srv);
  });

  it("a burst of 5,000 messages: the rate limit refuses what is over it, then ends the session with 4029", async () => {
    const srv = await start();
    const a = await attacker(srv);
    // In one POST: more than the burst could ever allow.
    const oneBody = await a.send(Array.from({ length: 5_000 }, (_, i) => ({ type: "ping", t: i })));
    expect(oneBody.status).toBe(413);
    // As 25 concurrent POSTs of 200: the bucket (burst 200) lets one through and refuses the
    // rest, each once; after 10 refusals in a row the 11th ends the session with 4029, and the
    // POSTs after it find no session.
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, p) => a.send(Array.from({ length: 200 }, (_, i) => ({ type: "ping", t: p * 200 + i })))),
    );
    const accepted = answers.filter((r) => r.status === 202).length;
    const limited = answers.filter((r) => r.status === 429);
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(limited.length).toBeLessThanOrEqual(11);
    expect(answers.filter((r) => r.status === 404).length).toBe(25 - accepted - limited.length);
    for (const r of limited) {
      expect(r.body).toMatchObject({ code: "rate_limited" });
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    await waitUntil(() => messagesOf(a.s).filter((m) => m.type === "pong").length === accepted * 200, "every accepted ping's pong", 10_000);
    expect(a.s.events.find((e) => e.event === "close")?.data).toContain("4029");
    await expectStillServing(srv);
  });

  it("a POST with an unknown session: 404", async () => {
    const srv = await start();
    await attacker(srv);
    const answer = await post(
      `${srv.baseUrl}/messages`,
      { type: "op", docId: "doc-1", revision: 0, op: [{ i: "x" }] },
      { "X-Session-Id": "guessed-session-id", ...AUTH },
    );
    expect(answer.status).toBe(404);
    await expectStillServing(srv);
  });

  it("a bad token: 401 on the stream (nothing opened) and on a POST (nothing applied)", async () => {
    const srv = await start();
    const a = await attacker(srv);
    const s = await stream(`${srv.baseUrl}/events?docId=doc-1&token=forged`, {});
    expect(s.status).toBe(401);
    expect(srv.handler.sessionCount).toBe(1);
    const answer = await a.send({ type: "op", docId: "doc-1", revision: 0, seq: 1, op: [{ i: "x" }] }, { Authorization: "Bearer forged" });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ code: "unauthorized" });
    await expectStillServing(srv);
  });
});
