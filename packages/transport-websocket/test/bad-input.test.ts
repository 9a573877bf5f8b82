// Hostile and malformed input against the WebSocket binding over the real Hub. Every case
// checks the documented answer, then that the server still serves another client and that the
// document did not change.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocketTransportError, WebSocketTransport } from "../src/index.js";
import { startHubServer, type HubServer } from "./hub-server.js";
import { rawUpgrade, socketClosed } from "./raw-client.js";
import { openRawWsClient, summarize, type Answer, type RawWsClient } from "./raw-ws-client.js";
import { waitUntil } from "@open-ot/harness";

const DOC = "doc";
const INITIAL = "hello";
const TOKEN = "good-token";

describe("bad input to the WebSocket binding (real Hub)", () => {
  let server: HubServer;
  let observer: RawWsClient;
  const clients: RawWsClient[] = [];

  /** A client on /ws with the right token. */
  async function open(path = "/ws"): Promise<RawWsClient> {
    const separator = path.includes("?") ? "&" : "?";
    const client = await openRawWsClient(server.url(`${path}${separator}token=${TOKEN}`));
    clients.push(client);
    return client;
  }

  /** A client joined to DOC, its snapshot received. */
  async function joined(clientId?: string): Promise<RawWsClient> {
    const client = await open();
    client.sendText(JSON.stringify({ type: "join", docId: DOC, ...(clientId ? { clientId } : {}) }));
    await waitUntil(() => client.answers.some((a) => a.type === "snapshot"), "the snapshot");
    return client;
  }

  /** Wait for exactly `count` answers (and give a straggler the time of a round trip elsewhere). */
  async function answersOf(client: RawWsClient, count: number): Promise<string[]> {
    await waitUntil(() => client.answers.length >= count, `${count} answers`);
    await roundTrip(observer, `settle-${Math.random()}`);
    return summarize(client.answers);
  }

  async function roundTrip(client: RawWsClient, t: string): Promise<void> {
    client.sendText(JSON.stringify({ type: "ping", t }));
    await waitUntil(() => client.answers.some((a) => a.type === "pong" && a.t === t), `pong ${t}`);
  }

  /** The server still answers the observer, broadcast nothing, kept the document, and lets newcomers in. */
  async function expectStillServing(): Promise<void> {
    await roundTrip(observer, `alive-${Math.random()}`);
    expect(observer.answers.filter((a) => a.type === "op")).toEqual([]);
    expect(await server.backend.getRecord(DOC)).toEqual({ type: "text", v: 0, data: INITIAL });
    const newcomer = await joined();
    expect(newcomer.answers.find((a) => a.type === "snapshot")).toMatchObject({ docId: DOC, revision: 0, data: INITIAL });
  }

  beforeEach(async () => {
    server = await startHubServer({ verifyToken: (token) => token === TOKEN });
    await server.backend.createDocument(DOC, "text", INITIAL);
    observer = await joined("observer");
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await server.close();
  });

  describe("answered with an error, the connection staying open", () => {
    const cases: Array<[string, string | Buffer, string[]]> = [
      ["text that is not JSON", "hello{", ["error:bad_message"]],
      ["a JSON number", "42", ["error:bad_message"]],
      ["a JSON string", JSON.stringify("join"), ["error:bad_message"]],
      ["a JSON string holding a message", JSON.stringify(JSON.stringify({ type: "ping", t: 1 })), ["error:bad_message"]],
      ["null", "null", ["error:bad_message"]],
      ["an array holding a non-object", "[1]", ["error:bad_message"]],
      ["an array mixing a message and a non-object", '[{"type":"ping","t":"m"},"x"]', ["pong", "error:bad_message"]],
      ["an unknown type", '{"type":"nope"}', ["error:bad_message"]],
      ["a message without a type", '{"docId":"doc"}', ["error:bad_message"]],
      ["a join without docId", '{"type":"join"}', ["error:bad_message"]],
      ["an op without op", '{"type":"op","docId":"doc","revision":0}', ["error:bad_message"]],
      ["an op without revision", '{"type":"op","docId":"doc","op":[]}', ["error:bad_message"]],
      ["an op for a document not joined", '{"type":"op","docId":"doc","op":[],"revision":0}', ["error:bad_message"]],
      ["a join with revision null", '{"type":"join","docId":"doc","revision":null}', ["error:bad_revision"]],
      ["JSON nested 100,000 levels deep", "[".repeat(100_000) + "]".repeat(100_000), ["error:bad_message"]],
      ["an object nested 100,000 levels deep", '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000), ["error:bad_message"]],
      [
        "a frame of invalid UTF-8",
        Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
        ["error:bad_message"],
      ],
      ["a truncated UTF-8 sequence", Buffer.from([0x22, 0xe2, 0x82, 0x22]), ["error:bad_message"]],
      ["a join of docId ../x", JSON.stringify({ type: "join", docId: "../x" }), ["error:bad_message"]],
      ["a join of docId a*b", JSON.stringify({ type: "join", docId: "a*b" }), ["error:bad_message"]],
      ["a join of docId {x}", JSON.stringify({ type: "join", docId: "{x}" }), ["error:bad_message"]],
      ["a join of an empty docId", JSON.stringify({ type: "join", docId: "" }), ["error:bad_message"]],
      ["a join of a 10,000-character docId", JSON.stringify({ type: "join", docId: "a".repeat(10_000) }), ["error:bad_message"]],
      ["a join with a bad clientId", JSON.stringify({ type: "join", docId: DOC, clientId: "no spaces" }), ["error:bad_message"]],
    ];

    it.each(cases)("%s", async (_name, frame, expected) => {
      const client = await open();
      client.sendText(frame);
      expect(await answersOf(client, expected.length)).toEqual(expected);
      await roundTrip(client, "still open");
      await expectStillServing();
    });
  });

  describe("ops that do not fit the document", () => {
    async function submit(op: unknown, revision: unknown): Promise<Answer> {
      const client = await joined("bad-op-client");
      const before = client.answers.length;
      client.sendText(JSON.stringify({ type: "op", docId: DOC, op, revision, seq: 1 }));
      await waitUntil(() => client.answers.length > before, "the answer");
      return client.answers[before]!;
    }

    it("an op with a negative retain: invalid_op, naming its seq", async () => {
      expect(await submit([{ r: -1 }, { i: "x" }], 0)).toMatchObject({ type: "error", code: "invalid_op", docId: DOC, seq: 1 });
      await expectStillServing();
    });

    it("an op that reaches past the end: invalid_op", async () => {
      expect(await submit([{ r: INITIAL.length + 1 }, { i: "x" }], 0)).toMatchObject({ type: "error", code: "invalid_op" });
      await expectStillServing();
    });

    it("an op with an unknown component: invalid_op", async () => {
      expect(await submit([{ x: 1 }], 0)).toMatchObject({ type: "error", code: "invalid_op" });
      await expectStillServing();
    });

    it("an op based on a revision ahead of the server: bad_revision", async () => {
      expect(await submit([{ i: "x" }], 999)).toMatchObject({ type: "error", code: "bad_revision", seq: 1 });
      await expectStillServing();
    });

    it("an op with a negative revision: bad_revision", async () => {
      expect(await submit([{ i: "x" }], -1)).toMatchObject({ type: "error", code: "bad_revision" });
      await expectStillServing();
    });
  });

  it("a message over the size limit (1 MiB): the connection is closed with 1009", async () => {
    const client = await open();
    client.sendText(JSON.stringify({ type: "ping", t: "x".repeat(1024 * 1024) }));
    expect(await client.closed).toBe(1009);
    expect(summarize(client.answers)).toEqual([]);
    await expectStillServing();
  });

  it("a burst of 5,000 messages: the first 200 are served, then rate_limited errors, then close 4029", async () => {
    const client = await open();
    for (let i = 0; i < 5_000; i++) client.sendText(JSON.stringify({ type: "ping", t: i }));
    expect(await client.closed).toBe(4029);
    const pongs = client.answers.filter((a) => a.type === "pong");
    const limited = client.answers.filter((a) => a.type === "error" && a.code === "rate_limited");
    // Bursts of 200 at 100/s: a few tokens may come back while the burst is being read.
    expect(pongs.length).toBeGreaterThanOrEqual(200);
    expect(pongs.length).toBeLessThan(1_000);
    // Ten refusals in a row are answered; the eleventh closes the connection.
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(pongs.length + limited.length).toBeLessThan(5_000);
    expect(summarize(client.answers).every((s) => s === "pong" || s === "error:rate_limited")).toBe(true);
    await expectStillServing();
  });

  it("an upgrade with a bad token: HTTP 401, nothing upgraded", async () => {
    const before = server.binding.connectionCount;
    const raw = await rawUpgrade(server.port, "/ws?token=wrong");
    expect(raw.status).toBe(401);
    await socketClosed(raw.socket);
    const viaTransport = await new WebSocketTransport(server.url(), { token: "wrong" }).connect(() => {}).catch((e: unknown) => e);
    expect(viaTransport).toBeInstanceOf(WebSocketTransportError);
    expect((viaTransport as WebSocketTransportError).status).toBe(401);
    expect(server.binding.connectionCount).toBe(before);
    await expectStillServing();
  });

  it.each([
    ["../x", "..%2Fx"],
    ["a*b", "a*b"],
    ["{x}", "%7Bx%7D"],
    ["empty", ""],
    ["10,000 characters", "a".repeat(10_000)],
  ])("a root-path upgrade naming docId %s: HTTP 400, nothing upgraded", async (_name, docId) => {
    const before = server.binding.connectionCount;
    const raw = await rawUpgrade(server.port, `/?docId=${docId}&token=${TOKEN}`);
    expect(raw.status).toBe(400);
    await socketClosed(raw.socket);
    expect(server.binding.connectionCount).toBe(before);
    await expectStillServing();
  });

  it("a root-path op that does not fit: invalid_op, and the legacy connection stays usable", async () => {
    const client = await open(`/?docId=${DOC}`);
    client.sendText(JSON.stringify({ type: "op", op: [{ d: 99 }], revision: 0 }));
    await waitUntil(() => client.answers.length === 1, "the answer");
    expect(client.answers[0]).toMatchObject({ type: "error", code: "invalid_op" });
    await roundTrip(client, "legacy still open");
    await expectStillServing();
  });
});
