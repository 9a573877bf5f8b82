// JSON documents end to end: the real Server and Hub (on MemoryBackend, and on RedisAdapter
// against a private redis-server with two instances), the WebSocket binding, and OTClients on
// WebSocketTransport editing one document concurrently. Also: malformed and hostile JSON ops
// sent raw are refused with invalid_op, and the server keeps serving.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { RedisAdapter } from "@open-ot/adapter-redis";
import { OTClient, type OTClientError } from "@open-ot/client";
import { TextType, type OTType } from "@open-ot/core";
import { Hub, MemoryBackend, Server, type IBackendAdapter } from "@open-ot/server";
import { seededRandom, startRedisServer, waitUntil, type RedisServer } from "@open-ot/testing";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import { afterEach, describe, expect, it } from "vitest";
import NodeWebSocket from "ws";
import { editOp, insertOp, JsonType, type JsonDoc, type JsonOp } from "../src/index.js";
import { opFromChoices } from "./random-json.js";

const TYPES = [TextType, JsonType] as OTType<unknown, unknown>[];
const INITIAL = { title: "Shopping", items: [{ text: "milk", done: false }], count: 0 };

interface Instance {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startInstance(backend: IBackendAdapter, maxDocumentSize?: number): Promise<Instance> {
  const server = new Server(backend, maxDocumentSize === undefined ? { types: TYPES } : { types: TYPES, maxDocumentSize });
  const hub = new Hub({ server, createOnJoin: true });
  const http = createServer((_req, res) => res.writeHead(404).end());
  const binding = attachWebSocketServer({ server: http, hub });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const instance = {
    url: `ws://127.0.0.1:${port}/ws`,
    server,
    async close() {
      await binding.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await hub.close();
    },
  };
  cleanups.push(() => instance.close());
  return instance;
}

/** A MemoryBackend, or a RedisAdapter on a private redis-server, closed after the test. */
async function startBackend(kind: string): Promise<IBackendAdapter> {
  let backend: IBackendAdapter;
  if (kind === "memory") {
    backend = new MemoryBackend({ types: TYPES });
  } else {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    backend = new RedisAdapter(redis.url, { types: TYPES });
  }
  cleanups.push(() => backend.close());
  return backend;
}

/** A raw WebSocket joined to `docId` (its snapshot received), and every message it receives. */
async function rawJoin(url: string, docId: string, clientId: string) {
  const ws = new NodeWebSocket(url);
  cleanups.push(async () => ws.close());
  const answers: { type: string; code?: string; seq?: number }[] = [];
  ws.on("message", (data) => answers.push(JSON.parse((data as Buffer).toString()) as { type: string }));
  await new Promise<void>((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.send(JSON.stringify({ type: "join", docId, clientId }));
  await waitUntil(() => answers.some((a) => a.type === "snapshot"), "the snapshot");
  return { ws, answers };
}

function jsonClient(url: string, docId: string): { client: OTClient<JsonDoc, JsonOp>; errors: OTClientError[] } {
  const client = new OTClient<JsonDoc, JsonOp>({ type: JsonType, docId, transport: new WebSocketTransport(url) });
  const errors: OTClientError[] = [];
  client.on("error", (error) => errors.push(error));
  cleanups.push(() => client.disconnect());
  return { client, errors };
}

/**
 * Three clients (spread over the given instances) each make `rounds` random edits on their own
 * view, without waiting for each other, then all must hold the same document as the backend.
 */
async function editConcurrently(urls: string[], backend: IBackendAdapter, docId: string, seed: number, rounds: number) {
  const random = seededRandom(seed);
  const clients = [0, 1, 2].map((k) => jsonClient(urls[k % urls.length] as string, docId));
  await Promise.all(clients.map(({ client }) => client.connect()));
  let submitted = 0;
  for (let round = 0; round < rounds; round++) {
    for (const { client } of clients) {
      const choices = [[0, 1, 2, 3].map(() => Math.floor(random() * 1000))];
      const op = opFromChoices(client.snapshot, choices);
      if (op === null) continue;
      client.submit(op);
      submitted++;
    }
    // Let the network interleave: some rounds go out before the previous ones are acknowledged.
    if (round % 3 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const settled = async () => {
    const revision = clients[0]!.client.revision;
    return clients.every(({ client }) => client.synced && client.revision === revision) && (await backend.getRecord(docId)).v === revision;
  };
  await waitUntil(settled, "every client synced at the backend's revision", 20_000);
  const record = await backend.getRecord(docId);
  expect(record.type).toBe("json1");
  for (const { client, errors } of clients) {
    expect(client.snapshot).toEqual(record.data);
    expect(errors).toEqual([]);
  }
  expect(submitted).toBeGreaterThan(rounds);
  return record;
}

describe("JSON documents on the real server and client", () => {
  it("MemoryBackend: three clients edit concurrently and converge", async () => {
    const backend = new MemoryBackend({ types: TYPES });
    cleanups.push(() => backend.close());
    const instance = await startInstance(backend);
    await instance.server.createDocument("list", "json1", INITIAL);
    for (const seed of [1, 2, 3]) {
      const docId = `list-${seed}`;
      await instance.server.createDocument(docId, "json1", INITIAL);
      await editConcurrently([instance.url], backend, docId, seed, 30);
    }
  });

  it("a client learns the document's type from the snapshot: a text client is refused a JSON document", async () => {
    const backend = new MemoryBackend({ types: TYPES });
    cleanups.push(() => backend.close());
    const instance = await startInstance(backend);
    await instance.server.createDocument("list", "json1", INITIAL);
    const text = new OTClient<string, unknown>({ type: TextType, docId: "list", transport: new WebSocketTransport(instance.url) });
    cleanups.push(() => text.disconnect());
    await expect(text.connect()).rejects.toMatchObject({ code: "doc_type_mismatch" });
    const { client } = jsonClient(instance.url, "list");
    await client.connect();
    expect(client.snapshot).toEqual(INITIAL);
  });

  it("a client resyncing from a snapshot keeps its offline edits (the type's diff rebases them)", async () => {
    // A history of 2 ops: a client 4 revisions behind gets a snapshot when it rejoins.
    const backend = new MemoryBackend({ types: TYPES, historyLimit: 2 });
    cleanups.push(() => backend.close());
    const instance = await startInstance(backend);
    await instance.server.createDocument("list", "json1", INITIAL);
    const { client: away, errors } = jsonClient(instance.url, "list");
    const { client: here } = jsonClient(instance.url, "list");
    await Promise.all([away.connect(), here.connect()]);

    await away.disconnect();
    away.submit(insertOp(["items", 1], { text: "offline", done: false }));
    away.submit(editOp(["title"], "text-unicode", [8, "!"]));
    for (let k = 0; k < 4; k++) {
      here.submit(insertOp(["items", 0], { text: `online ${k}`, done: false }));
      await waitUntil(() => here.synced, "the online edit acknowledged");
    }
    const resyncs: { dropped: unknown }[] = [];
    away.on("resync", (event) => resyncs.push(event));
    await away.connect();
    await waitUntil(
      async () => away.synced && here.synced && away.revision === here.revision && (await backend.getRecord("list")).v === away.revision,
      "both synced",
      10_000,
    );
    expect(resyncs).toEqual([expect.objectContaining({ dropped: undefined })]);
    expect(errors).toEqual([]);
    const { data } = await backend.getRecord("list");
    expect(away.snapshot).toEqual(data);
    expect(data).toEqual({
      ...INITIAL,
      title: "Shopping!",
      items: [3, 2, 1, 0].map((k) => ({ text: `online ${k}`, done: false })).concat(INITIAL.items, [{ text: "offline", done: false }]),
    });
  });

  it("RedisAdapter: clients on two instances converge; snapshots and replays use the JSON type", async () => {
    const redis: RedisServer = await startRedisServer();
    cleanups.push(() => redis.stop());
    const adapter = (snapshotEvery: number) => {
      const created = new RedisAdapter(redis.url, { types: TYPES, snapshotEvery });
      cleanups.push(() => created.close());
      return created;
    };
    // Snapshots every 4 revisions: loading replays up to 3 JSON ops onto the stored snapshot.
    const [a, b] = [adapter(4), adapter(4)];
    const [one, two] = [await startInstance(a), await startInstance(b)];
    await one.server.createDocument("list", "json1", INITIAL);
    let record = await editConcurrently([one.url, two.url], a, "list", 7, 25);
    if (record.v % 4 === 0) {
      // One more op, valid whatever the random edits left (they may have removed `count`).
      const padded = typeof record.data === "object" && record.data !== null && "pad" in record.data;
      await one.server.submitOperation("list", padded ? ["pad", { r: true, i: record.v }] : ["pad", { i: record.v }], record.v);
      record = await a.getRecord("list");
    }

    // A fresh adapter, with no cache, loads the stored snapshot and replays the ops after it.
    const fresh = adapter(4);
    expect(await fresh.getRecord("list")).toEqual(record);
    // And a client joining later through it gets the same document.
    const late = await startInstance(fresh);
    const { client } = jsonClient(late.url, "list");
    await client.connect();
    expect(client.snapshot).toEqual(record.data);
    expect(client.revision).toBe(record.v);
  });
});

describe("the server refuses malformed JSON ops with invalid_op and keeps serving", () => {
  const hostile: [string, string][] = [
    ["not an op", `"hello"`],
    ["an unknown component", `["title",{"x":1}]`],
    ["a path 100 000 keys deep", `[${Array(100_000).fill('"a"').join(",")},{"i":1}]`],
    ["child lists nested 100 000 deep", `${"[".repeat(100_000)}"a",{"i":1}${"]".repeat(100_000)}`],
    ["a value nested 100 000 deep", `["x",{"i":${"[".repeat(100_000)}${"]".repeat(100_000)}}]`],
    ["__proto__ in a path", `["__proto__","polluted",{"i":true}]`],
    ["__proto__ in a value", `["x",{"i":{"__proto__":{"polluted":true}}}]`],
    ["a string-edit skip of 1e300", `["title",{"es":[1e300,"q"]}]`],
    ["a number that JSON.parse makes Infinity", `["x",{"i":1e400}]`],
    ["a number edit to Infinity", `["x",{"i":1.7e308,"ena":1.7e308}]`],
    ["removing the whole document", `[{"r":true}]`],
    ["a move of an inherited function", `[["hasOwnProperty",{"p":0}],["x",{"d":0}]]`],
    ["a string edit past the end of its string", `["items",0,"text",{"es":[50,"q"]}]`],
  ];

  it.each([["memory"], ["redis"]])("%s backend", async (kind) => {
    const backend = await startBackend(kind);
    const instance = await startInstance(backend);
    await instance.server.createDocument("list", "json1", INITIAL);
    await instance.server.submitOperation("list", ["count", { ena: 1 }], 0);

    const { ws, answers } = await rawJoin(instance.url, "list", "hostile-client-0001");

    let seq = 0;
    for (const [, op] of hostile) {
      seq++;
      // Based on revision 0: the server transforms it over revision 1 first (the stale path).
      ws.send(`{"type":"op","docId":"list","seq":${seq},"revision":${seq % 2},"op":${op}}`);
    }
    await waitUntil(() => answers.filter((a) => a.type === "error").length === hostile.length, "an answer to every op", 20_000);
    const errors = answers.filter((a) => a.type === "error");
    expect(errors.map((a) => [hostile[(a.seq ?? 0) - 1]?.[0], a.code])).toEqual(hostile.map(([name]) => [name, "invalid_op"]));
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();

    // Still serving: a valid op commits, and the document is as before plus that op.
    ws.send(
      JSON.stringify({ type: "op", docId: "list", seq: seq + 1, revision: 1, op: ["items", 1, { i: { text: "eggs", done: false } }] }),
    );
    await waitUntil(() => answers.some((a) => a.type === "ack"), "the ack");
    const record = await backend.getRecord("list");
    expect(record).toEqual({
      type: "json1",
      v: 2,
      data: { ...INITIAL, count: 1, items: [...INITIAL.items, { text: "eggs", done: false }] },
    });
  });
});

describe("the server's maxDocumentSize applies to JSON documents", () => {
  it.each([["memory"], ["redis"]])("%s backend: an op that would grow the document past it is refused with too_large", async (kind) => {
    const backend = await startBackend(kind);
    const max = 200;
    const instance = await startInstance(backend, max);
    await instance.server.createDocument("list", "json1", INITIAL);
    const size = (doc: JsonDoc): number => JSON.stringify(doc).length;
    expect(size(INITIAL)).toBeLessThan(max);

    const { ws, answers } = await rawJoin(instance.url, "list", "large-client-00001");
    const answerTo = async (seq: number) => {
      await waitUntil(() => answers.some((a) => a.seq === seq && (a.type === "ack" || a.type === "error")), `the answer to op ${seq}`);
      return answers.find((a) => a.seq === seq && (a.type === "ack" || a.type === "error"))!;
    };

    // Fits: the document grows to just under the limit.
    const fits = "x".repeat(max - size(INITIAL) - 20);
    ws.send(JSON.stringify({ type: "op", docId: "list", seq: 1, revision: 0, op: ["note", { i: fits }] }));
    expect(await answerTo(1)).toMatchObject({ type: "ack" });
    const before = (await backend.getRecord("list")).data as JsonDoc;
    expect(size(before)).toBeLessThanOrEqual(max);

    // Past the limit, on the current revision and on a stale one (transformed first): refused, nothing applied.
    ws.send(
      JSON.stringify({ type: "op", docId: "list", seq: 2, revision: 1, op: ["items", 1, { i: { text: "y".repeat(40), done: false } }] }),
    );
    expect(await answerTo(2)).toMatchObject({ type: "error", code: "too_large" });
    ws.send(JSON.stringify({ type: "op", docId: "list", seq: 3, revision: 0, op: ["title", { es: [8, "z".repeat(40)] }] }));
    expect(await answerTo(3)).toMatchObject({ type: "error", code: "too_large" });
    expect(await backend.getRecord("list")).toEqual({ type: "json1", v: 1, data: before });

    // Still serving, and an op that shrinks the document commits.
    ws.send(JSON.stringify({ type: "op", docId: "list", seq: 4, revision: 1, op: ["note", { r: true }] }));
    expect(await answerTo(4)).toMatchObject({ type: "ack" });
    expect(await backend.getRecord("list")).toEqual({ type: "json1", v: 2, data: INITIAL });
  });
});
