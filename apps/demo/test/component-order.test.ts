// The tie rule of docs/protocol.md ("Component order") against the demo server, over real
// sockets, spoken as a client written from the protocol alone would: raw messages, no
// transform of our own. Document "[a][c]" at revision 1; Y inserts "[y]" at 3; X, concurrent,
// replaces "[a]" with "[x]". Where X spells that delete-then-insert, its insert stands at 3 and
// ties with Y's, so the op committed first comes first; spelled insert-then-delete, it stands
// at 0 and comes first whatever the commit order.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFaultProxy, waitUntil, type FaultProxy } from "@open-ot/harness";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO_DEFAULTS } from "../src/demo-config.js";
import { startDemoServer, type DemoServer } from "../src/demo-server.js";

type Message = Record<string, unknown> & { type: string };

/** A connection that sends protocol messages as given and records what arrives. */
class RawClient {
  readonly received: Message[] = [];
  readonly #transport: WebSocketTransport<Message>;

  constructor(
    url: string,
    readonly clientId: string,
  ) {
    this.#transport = new WebSocketTransport<Message>(url);
  }

  async open(): Promise<void> {
    await this.#transport.connect((message) => void this.received.push(message));
  }

  send(message: Message): Promise<void> {
    return this.#transport.send({ ...message, clientId: this.clientId });
  }

  /** The first message of `type` (and `revision`, when given) that arrived, waiting for it. */
  async next(type: string, revision?: number): Promise<Message> {
    const find = () => this.received.find((m) => m.type === type && (revision === undefined || m.revision === revision));
    await waitUntil(() => find() !== undefined, `${this.clientId}: ${type}${revision === undefined ? "" : ` ${revision}`}`, 5_000, 5);
    return find()!;
  }

  close(): Promise<void> {
    return this.#transport.disconnect();
  }
}

let publicDir: string;
let server: DemoServer;
const open: RawClient[] = [];
let proxy: FaultProxy | undefined;
let docs = 0;

beforeAll(async () => {
  publicDir = await mkdtemp(join(tmpdir(), "open-ot-order-page-"));
  await writeFile(join(publicDir, "index.html"), "<p>demo</p>");
  server = await startDemoServer({ ...DEMO_DEFAULTS, port: 0, host: "127.0.0.1", publicDir });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await proxy?.close();
  proxy = undefined;
});

afterAll(async () => {
  await server.close();
  await rm(publicDir, { recursive: true, force: true });
});

async function client(name: string, port = server.port): Promise<RawClient> {
  const c = new RawClient(`ws://127.0.0.1:${port}/ws`, `${name}-${Math.random().toString(36).slice(2, 14)}abcdefgh`);
  open.push(c);
  await c.open();
  return c;
}

/** A new document holding "[a][c]" at revision 1; returns its id. */
async function seeded(): Promise<string> {
  const docId = `order-${++docs}`;
  const seeder = await client("seeder");
  await seeder.send({ type: "join", docId });
  await seeder.next("snapshot");
  await seeder.send({ type: "op", docId, op: [{ i: "[a][c]" }], revision: 0, seq: 1 });
  await seeder.next("ack", 1);
  return docId;
}

/** The document's text as a new joiner receives it. */
async function textOf(docId: string): Promise<unknown> {
  const reader = await client("reader");
  await reader.send({ type: "join", docId });
  return (await reader.next("snapshot")).data;
}

const Y_OP = [{ r: 3 }, { i: "[y]" }];
const X_DELETE_FIRST = [{ d: 3 }, { i: "[x]" }];
const X_INSERT_FIRST = [{ i: "[x]" }, { d: 3 }];

/** X and Y, both joined to `docId` at revision 1 (X through `xPort` when given). */
async function joinedPair(docId: string, xPort?: number): Promise<{ x: RawClient; y: RawClient }> {
  const x = await client("x", xPort);
  const y = await client("y");
  for (const c of [x, y]) {
    await c.send({ type: "join", docId, revision: 1 });
    await c.next("joined");
  }
  return { x, y };
}

/** Send `op` based on revision 1 as the client's first op and wait for its ack at `revision`. */
async function commitAt(c: RawClient, docId: string, op: unknown, revision: number): Promise<void> {
  await c.send({ type: "op", docId, op, revision: 1, seq: 1 });
  await c.next("ack", revision);
}

describe("component order on the demo server", () => {
  it("ties an insert after a delete with a concurrent insert at the deleted stretch's end: first committed first", async () => {
    const docId = await seeded();
    const { x, y } = await joinedPair(docId);
    await commitAt(y, docId, Y_OP, 2);
    await commitAt(x, docId, X_DELETE_FIRST, 3);
    expect(await textOf(docId)).toBe("[y][x][c]");
    // The server stores and broadcasts X's op as X spelled it, transformed: delete, keep [y], insert.
    expect((await y.next("op", 3)).op).toEqual([{ d: 3 }, { r: 3 }, { i: "[x]" }]);
  });

  it("puts an insert before a delete at the start of the stretch, ahead of the other insert", async () => {
    const docId = await seeded();
    const { x, y } = await joinedPair(docId);
    await commitAt(y, docId, Y_OP, 2);
    await commitAt(x, docId, X_INSERT_FIRST, 3);
    expect(await textOf(docId)).toBe("[x][y][c]");
  });

  it("keeps the commit order of the tie when the replacement is committed first", async () => {
    const docId = await seeded();
    const { x, y } = await joinedPair(docId);
    await commitAt(x, docId, X_DELETE_FIRST, 2);
    await commitAt(y, docId, Y_OP, 3);
    expect(await textOf(docId)).toBe("[x][y][c]");
  });

  it("ties the same way for an op held back by a stalled connection and delivered late", async () => {
    const docId = await seeded();
    proxy = await startFaultProxy({ target: { port: server.port } });
    const { x, y } = await joinedPair(docId, proxy.port);
    proxy.stallAll();
    // Sent into the stall: the bytes wait in the kernel while Y's op is committed.
    await x.send({ type: "op", docId, op: X_DELETE_FIRST, revision: 1, seq: 1 });
    await commitAt(y, docId, Y_OP, 2);
    expect(x.received.some((m) => m.type === "ack")).toBe(false);
    proxy.resume();
    await x.next("ack", 3);
    expect(await textOf(docId)).toBe("[y][x][c]");
  });
});
