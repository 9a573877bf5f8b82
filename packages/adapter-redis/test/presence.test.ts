// Presence across two server instances (Server + Hub each, on their own RedisAdapter) sharing
// a private redis-server, with the real OTClient on both: carets stay on their character
// through concurrent edits, a joiner sees everyone, and entries go with their instance or
// connection.
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { authorLabel, createInProcessTransport, Hub, Server, type PresenceOptions } from "@open-ot/server";
import { pick, randomInt, seededRandom, startRedisServer, waitUntil, type RedisServer } from "@open-ot/harness";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RedisAdapter } from "../src/index.js";

let redis: RedisServer;
const instances: { hub: Hub; adapter: RedisAdapter; closed: boolean }[] = [];
const clients: OTClient<string, TextOp>[] = [];

const presence: PresenceOptions = { graceMs: 300, expiryMs: 800, flushMs: 20 };

function instance(): { hub: Hub; adapter: RedisAdapter; closed: boolean } {
  const adapter = new RedisAdapter({ host: "127.0.0.1", port: redis.port });
  const hub = new Hub({ server: new Server(adapter), createOnJoin: true, presence });
  const created = { hub, adapter, closed: false };
  instances.push(created);
  return created;
}

async function client(hub: Hub, clientId: string): Promise<OTClient<string, TextOp>> {
  const created = new OTClient({
    type: TextType,
    transport: createInProcessTransport(hub),
    docId: "doc",
    clientId,
    presence: { intervalMs: 10 },
  });
  clients.push(created);
  await created.connect();
  return created;
}

const author = (clientId: string): string => authorLabel("doc", clientId);
const caretOf = (viewer: OTClient<string, TextOp>, clientId: string): number | undefined =>
  viewer.presence.get(author(clientId))?.ranges?.[0]?.head;

beforeEach(async () => {
  redis = await startRedisServer();
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.disconnect();
  for (const { hub, adapter, closed } of instances.splice(0)) {
    if (!closed) await hub.close();
    await adapter.close();
  }
  await redis.stop();
});

describe("presence across two instances sharing Redis", () => {
  it("keeps carets on their character through concurrent edits on both instances", async () => {
    const a = instance();
    const b = instance();
    // Distinct characters, so a character's index says where a caret must be.
    await a.adapter.createDocument("doc", "text", "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    const alice = await client(a.hub, "alice");
    const bob = await client(b.hub, "bob");
    const random = seededRandom(19);
    const mismatches: string[] = [];
    // Every time bob's document changes, alice's caret must sit before one of her markers in his
    // view (the one she last placed it at, or the one before while her move is on its way).
    let aliceMarker = "K";
    let checks = 0;
    const check = (): void => {
      const caret = caretOf(bob, "alice");
      if (caret !== undefined) checks++;
      if (caret !== undefined && caret !== bob.snapshot.indexOf("K") && caret !== bob.snapshot.indexOf("Q"))
        mismatches.push(
          `bob sees alice at ${caret}, "${aliceMarker}" is at ${bob.snapshot.indexOf(aliceMarker)} in ${JSON.stringify(bob.snapshot)}`,
        );
    };
    bob.on("remoteOp", check);
    bob.on("ack", check);

    const place = (who: OTClient<string, TextOp>, marker: string): void => {
      const at = who.snapshot.indexOf(marker);
      who.setPresence({ label: who.clientId, color: "#c33", ranges: [{ anchor: at, head: at }] });
    };
    place(alice, aliceMarker);
    place(bob, "T");
    await waitUntil(() => caretOf(bob, "alice") !== undefined && caretOf(alice, "bob") !== undefined, "both carets shown");

    // Both type at once: inserts anywhere (at the carets too) and deletes that spare the markers.
    const edit = (who: OTClient<string, TextOp>, spare: readonly string[]): void => {
      const doc = who.snapshot;
      const at = randomInt(random, doc.length + 1);
      const text = pick(random, ["x", "yz", "\n", "w"]);
      const del = random() < 0.4 ? Math.min(randomInt(random, 3), doc.length - at) : 0;
      const deleted = doc.slice(at, at + del);
      const op: TextOp = TextType.normalize([
        { r: at },
        { i: text },
        ...(del > 0 && !spare.some((m) => deleted.includes(m)) ? [{ d: del }] : []),
      ]);
      who.submit(op);
    };
    for (let round = 0; round < 120; round++) {
      edit(alice, ["K", "Q", "T"]);
      edit(bob, ["K", "Q", "T"]);
      // Bob's own unacknowledged edits move alice's caret in his view too.
      check();
      // Alice moves her caret now and then, with her own edits possibly unacknowledged.
      if (round % 30 === 15) {
        aliceMarker = aliceMarker === "K" ? "Q" : "K";
        place(alice, aliceMarker);
      }
      if (round % 10 === 0) await waitUntil(() => alice.synced && bob.synced, "acks");
    }
    await waitUntil(() => alice.synced && bob.synced && alice.revision === bob.revision && alice.snapshot === bob.snapshot, "convergence");
    await waitUntil(() => caretOf(bob, "alice") === bob.snapshot.indexOf(aliceMarker), "alice's last caret at bob");
    expect(alice.snapshot).toBe(bob.snapshot);
    expect(mismatches).toEqual([]);
    expect(checks).toBeGreaterThan(150);
    expect(caretOf(alice, "bob")).toBe(alice.snapshot.indexOf("T"));
    // Presence took no revision: the document is at the revision of the clients' last op.
    await expect(a.adapter.getRecord("doc")).resolves.toMatchObject({ v: alice.revision, data: alice.snapshot });
  });

  it("shows a joiner everyone on both instances; a killed instance's people go within the expiry, a closed connection's within the grace", async () => {
    const a = instance();
    const b = instance();
    await a.adapter.createDocument("doc", "text", "hello world");
    const alice = await client(a.hub, "alice");
    const bob = await client(a.hub, "bob");
    const carol = await client(b.hub, "carol");
    alice.setPresence({ label: "Alice", ranges: [{ anchor: 1, head: 3 }] });
    bob.setPresence({ label: "Bob" });
    carol.setPresence({ label: "Carol", ranges: [{ anchor: 5, head: 5 }] });

    const dave = await client(b.hub, "dave");
    await waitUntil(() => dave.presence.size === 3, "dave sees alice, bob and carol");
    expect(dave.presence.get(author("alice"))).toEqual({ author: author("alice"), label: "Alice", ranges: [{ anchor: 1, head: 3 }] });
    expect(dave.presence.get(author("bob"))?.label).toBe("Bob");

    // A closed connection (a closed tab): gone after the grace, not before.
    const closedAt = performance.now();
    await carol.disconnect();
    await waitUntil(() => !dave.presence.has(author("carol")), "carol gone", presence.graceMs! * 4);
    const closedGone = performance.now() - closedAt;
    expect(closedGone).toBeGreaterThanOrEqual(presence.graceMs! - 5);

    // The instance of alice and bob dies: it never says goodbye.
    a.closed = true;
    const diedAt = performance.now();
    await a.hub.close();
    await waitUntil(() => dave.presence.size === 0, "alice and bob gone", presence.expiryMs! * 3);
    const diedGone = performance.now() - diedAt;
    expect(diedGone).toBeLessThanOrEqual(presence.expiryMs! + 100);
    console.log(
      `presence: closed connection gone after ${closedGone.toFixed(0)} ms (grace ${presence.graceMs!}), dead instance's after ${diedGone.toFixed(0)} ms (expiry ${presence.expiryMs!})`,
    );
  });
});
