// Issue 16, finding 2, over real sockets: a participant reads another's identity from an op
// broadcast, joins under it from a connection of its own, and sends `op: []` with the largest
// seq. Before the fix the broadcast carried the victim's clientId, the empty op was acked, and
// every later edit of the victim was dropped as a duplicate while its client stayed unsynced.
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketTransport } from "../../src/index.js";
import type { HubLike } from "../../src/hub-like.js";
import { startBindingServer, type BindingServer } from "../binding-server.js";
import { openRawWsClient, type Answer, type RawWsClient } from "../raw-ws-client.js";
import { waitUntil } from "@open-ot/harness";

const DOC = "victim-doc";
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

describe("a participant cannot void another's edits with its identity", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /**
   * One hub (in memory) behind two WebSocket endpoints: the victim's and the attacker's. With
   * `principals`, each endpoint stands for an authenticated user (as a binding's token check
   * would say), so that the attacker is another principal than the victim.
   */
  async function serve(principals: boolean): Promise<{ backend: MemoryBackend; victimUrl: string; attackerUrl: string }> {
    const backend = new MemoryBackend();
    const hub = new Hub({ server: new Server(backend), createOnJoin: true });
    const as = (principal: string): HubLike => ({
      connect: (connection, options = {}) => hub.connect(connection, principals ? { ...options, principal } : options),
    });
    const victimServer: BindingServer = await startBindingServer({ hub: as("alice") });
    const attackerServer: BindingServer = await startBindingServer({ hub: as("mallory") });
    closers.push(async () => {
      await Promise.all([victimServer.close(), attackerServer.close()]);
      await hub.close();
    });
    return { backend, victimUrl: victimServer.url(), attackerUrl: attackerServer.url() };
  }

  async function otClient(url: string): Promise<OTClient<string, TextOp>> {
    const client = new OTClient<string, TextOp>({ type: TextType, docId: DOC, transport: new WebSocketTransport(url) });
    closers.push(() => client.disconnect());
    await client.connect();
    await waitUntil(() => client.hasDocument, "the client's snapshot", 5_000);
    return client;
  }

  async function raw(url: string): Promise<RawWsClient> {
    const client = await openRawWsClient(url);
    closers.push(async () => {
      client.ws.terminate();
    });
    return client;
  }

  async function answer(client: RawWsClient, from: number, what: string): Promise<Answer> {
    await waitUntil(() => client.answers.length > from, what, 5_000);
    return client.answers[from]!;
  }

  /** Append `text` to the victim's document and wait until it is acknowledged. */
  async function type(victim: OTClient<string, TextOp>, text: string): Promise<void> {
    victim.submit([{ r: victim.snapshot.length }, { i: text }]);
    await waitUntil(() => victim.synced, `the victim's "${text}" to be acknowledged (its edits were dropped)`, 5_000);
  }

  /**
   * The attack: watch the victim's broadcast op, take the identity it carries, join under it
   * from a new connection and send `op: []` with the largest seq. Returns what the server
   * answered to the empty op.
   */
  async function attack(victim: OTClient<string, TextOp>, attackerUrl: string, leaked?: string): Promise<Answer> {
    const watcher = await raw(attackerUrl);
    watcher.sendText(JSON.stringify({ type: "join", docId: DOC, clientId: "watcher-0123456789abcd" }));
    await answer(watcher, 0, "the watcher's snapshot");
    await type(victim, " world");
    const broadcast = await answer(watcher, 1, "the victim's op, as others see it");
    expect(broadcast.type).toBe("op");
    // Whatever identifies the victim's op: the clientId on the old server, an author label now.
    const stolen = leaked ?? (typeof broadcast["clientId"] === "string" ? broadcast["clientId"] : String(broadcast["author"]));

    const thief = await raw(attackerUrl);
    thief.sendText(JSON.stringify({ type: "join", docId: DOC, clientId: stolen }));
    const joined = await answer(thief, 0, "the answer to the thief's join");
    if (joined.type === "error") return joined;
    const revision = joined["revision"] as number;
    thief.sendText(JSON.stringify({ type: "op", docId: DOC, op: [], revision, seq: MAX_SEQ }));
    return answer(thief, 1, "the answer to the thief's op");
  }

  it("without authentication: op broadcasts carry no clientId, so the victim's edits still commit and everyone converges", async () => {
    const { backend, victimUrl, attackerUrl } = await serve(false);
    const victim = await otClient(victimUrl);
    const reader = await otClient(victimUrl);
    await type(victim, "hello");
    await attack(victim, attackerUrl);
    await type(victim, "!!!");
    await type(victim, " still here");
    await waitUntil(() => reader.revision === victim.revision, "the reader to catch up", 5_000);
    expect(victim.snapshot).toBe("hello world!!! still here");
    expect(reader.snapshot).toBe(victim.snapshot);
    await expect(backend.getRecord(DOC)).resolves.toMatchObject({ data: victim.snapshot });
  });

  it("with authentication: even a leaked clientId is refused (forbidden) for another principal, and changes nothing", async () => {
    const { backend, victimUrl, attackerUrl } = await serve(true);
    const victim = await otClient(victimUrl);
    await type(victim, "hello");
    const refused = await attack(victim, attackerUrl, victim.clientId);
    expect(refused).toMatchObject({ type: "error", code: "forbidden" });
    const before = await backend.getRecord(DOC);
    await type(victim, "!!!");
    expect(victim.snapshot).toBe("hello world!!!");
    await expect(backend.getRecord(DOC)).resolves.toMatchObject({ v: before.v + 1, data: victim.snapshot });
    expect(await backend.getLastSeq(DOC, victim.clientId)).toBe(victim.lastSeq);
  });
});
