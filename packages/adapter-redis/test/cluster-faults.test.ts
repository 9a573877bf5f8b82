// Two server instances (Server + Hub each, on their own RedisAdapter) on a Redis Cluster of
// three masters with a replica each, protocol clients on both editing documents spread over
// every master: with no fault, through a slot moved while its document is edited, a manual
// failover (CLUSTER FAILOVER on a replica) and a SIGKILL of a master. Every acked op is stored
// exactly once, every client converges, none is left stuck. The tests share one cluster and run
// in order (the SIGKILL last).
import http from "node:http";
import { keySlot } from "../src/key-slot.js";
import { afterEach, describe, expect, it } from "vitest";
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { Hub, Server } from "@open-ot/server";
import { randomTextEdit, seededRandom, waitUntil } from "@open-ot/harness";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import { RedisAdapter } from "../src/index.js";
import { clusterPerFile } from "./helpers.js";
import { ProtocolClient } from "./protocol-client.js";

const shared = clusterPerFile((seeds, options) => new RedisAdapter(seeds, options));
const instances: { hub: Hub; adapter: RedisAdapter }[] = [];
const clients: ProtocolClient[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const c of clients.splice(0)) c.disconnect();
  for (const { hub, adapter } of instances.splice(0)) {
    await hub.close();
    await adapter.close();
  }
});

/** One server instance on the cluster. */
function instance(): Hub {
  const adapter = new RedisAdapter(shared.cluster().seeds, {
    snapshotEvery: 10,
    // A failover is found within a few hundred milliseconds rather than ioredis's 5 s.
    cluster: { slotsRefreshInterval: 500 },
  });
  // A short lost-notice delay: a commit whose notice was lost is read from history soon.
  const logger =
    process.env["DBG"] === undefined
      ? {}
      : {
          warn: (m: string, d?: unknown) => console.log(Date.now() % 100000, "WARN", m, JSON.stringify(d)),
          error: (m: string, d?: unknown) => console.log(Date.now() % 100000, "ERROR", m, JSON.stringify(d)),
        };
  const hub = new Hub({
    logger,
    server: new Server(adapter, { logger }),
    createOnJoin: true,
    sequencer: { lostNoticeDelayMs: 100, retryDelayMs: 20 },
  });
  instances.push({ hub, adapter });
  return hub;
}

/** The slot of a document's keys and channel. */
function slotOf(docId: string): number {
  return keySlot(`ot:{${docId}}:doc`);
}

interface Run {
  /** Documents edited, each by one writer per instance and read by a client of each. */
  readonly docs: readonly string[];
  readonly opsPerWriter: number;
  /** Run once a third of the ops are acked, while editing goes on. */
  readonly fault?: () => Promise<void>;
}

/**
 * Edit `docs` from both instances at once; a writer whose op is refused (the cluster is failing
 * over) resends it with the same seq after a pause, as a client does. Then check that every
 * client saw every revision once, in order, got each of its own acks once, and that storage
 * holds each acked op exactly once.
 */
async function editAndCheck(run: Run): Promise<{ refusals: string[]; rejoins: number }> {
  const hubs = [instance(), instance()];
  const writers: ProtocolClient[] = [];
  const everyone: ProtocolClient[] = [];
  for (const docId of run.docs) {
    for (const [i, hub] of hubs.entries()) {
      const writer = new ProtocolClient(hub, `w${i}-${docId}`, docId, true);
      const reader = new ProtocolClient(hub, `r${i}-${docId}`, docId, true);
      clients.push(writer, reader);
      writers.push(writer);
      everyone.push(writer, reader);
    }
  }
  for (const c of everyone) await c.join();

  const refusals: string[] = [];
  const total = writers.length * run.opsPerWriter;
  let acked = 0;
  let faultDone: Promise<void> | undefined;
  async function write(writer: ProtocolClient): Promise<void> {
    for (let seq = 1; seq <= run.opsPerWriter; seq++) {
      for (let tries = 1; ; tries++) {
        if (tries > 100) throw new Error(`${writer.clientId} seq ${seq}: refused ${tries - 1} times`);
        const errorsBefore = writer.errorsFor(seq).length;
        const closesBefore = writer.closes;
        writer.submit(seq, `${writer.clientId}:${seq};`);
        await waitUntil(
          () => writer.acked.includes(seq) || writer.errorsFor(seq).length > errorsBefore || writer.closes > closesBefore,
          `${writer.clientId}'s ack or refusal of ${seq}`,
          15_000,
        ).catch((error: unknown) => {
          // What the writer last heard, to tell a lost answer from a stalled document.
          const heard = JSON.stringify(writer.messages.slice(-4));
          throw new Error(`${String(error)} (revision ${writer.revision}, closes ${writer.closes}, last messages ${heard})`, {
            cause: error,
          });
        });
        if (writer.acked.includes(seq)) break;
        const refusal = writer.errorsFor(seq)[errorsBefore];
        // An op resent right after the server asked for a rejoin can reach it before the join:
        // "has not joined", answered bad_message, is that race (the loop sends it again), not a refusal of the op.
        if (refusal?.type === "error" && !(refusal.code === "bad_message" && /has not joined/.test(refusal.message)))
          refusals.push(refusal.code);
        // As the protocol says, rejoin from the revision held before resending: a first try that
        // did commit is then acked in the replay (or the snapshot after a close says it is in the
        // document), and there is nothing to resend. A resent duplicate gets no answer of its own.
        await new Promise<void>((resolve) => setTimeout(resolve, 100));
        await waitUntil(() => writer.revision >= 0, `${writer.clientId}'s rejoin`, 15_000);
        if (writer.closes === closesBefore) await writer.rejoin();
        if (writer.acked.includes(seq) || writer.lastSeq >= seq) break;
      }
      acked += 1;
      if (run.fault !== undefined && faultDone === undefined && acked >= total / 3) faultDone = run.fault();
    }
  }
  await Promise.all(writers.map(write));
  await faultDone;

  const perDoc = 2 * run.opsPerWriter;
  await waitUntil(() => everyone.every((c) => c.revision >= perDoc), "every client to reach its document's last revision", 15_000);
  for (const c of everyone) {
    expect(c.violations, c.clientId).toEqual([]);
    expect(c.revision, c.clientId).toBe(perDoc);
    // A client that never had to rejoin saw every revision once, in order.
    if (c.closes === 0) {
      const first = perDoc - c.revisions.length;
      expect(c.revisions, c.clientId).toEqual(Array.from({ length: perDoc - first }, (_, i) => first + i + 1));
    }
  }
  for (const writer of writers) expect(new Set(writer.acked).size, writer.clientId).toBe(writer.acked.length);

  // Storage agrees: per document revisions 1..perDoc, every (clientId, seq) once.
  const check = new RedisAdapter(shared.cluster().seeds, { snapshotCacheSize: 0 });
  try {
    for (const docId of run.docs) {
      const ops = await check.getOps(docId, 1);
      expect(ops.map((o) => o.revision)).toEqual(Array.from({ length: perDoc }, (_, i) => i + 1));
      expect(new Set(ops.map((o) => `${o.clientId}:${o.seq}`)).size).toBe(perDoc);
      const text = (await check.getRecord(docId)).data as string;
      for (const o of ops) expect(text.split(`${o.clientId}:${o.seq};`)).toHaveLength(2);
    }
  } finally {
    await check.close();
  }
  return { refusals, rejoins: everyone.reduce((sum, c) => sum + c.closes, 0) };
}

/** `count` document ids whose slots are spread over every master. */
async function docsOnEveryMaster(prefix: string, count: number): Promise<string[]> {
  const docs = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const masters = new Set(await Promise.all(docs.map(async (docId) => await shared.cluster().masterOf(slotOf(docId)))));
  expect(masters.size).toBe(3);
  return docs;
}

/**
 * Move `slot` to another master the way `redis-cli --cluster reshard` does: IMPORTING on the
 * target, MIGRATING on the source, MIGRATE its keys in batches, then assign it on every node.
 */
async function moveSlot(slot: number): Promise<void> {
  const cluster = shared.cluster();
  const source = await cluster.masterOf(slot);
  const masters = await Promise.all([0, 6000, 12000].map(async (s) => await cluster.masterOf(s)));
  const target = masters.find((port) => port !== source)!;
  const [sourceId, targetId] = [await nodeId(source), await nodeId(target)];
  await cluster.cli(target, "cluster", "setslot", String(slot), "importing", sourceId);
  await cluster.cli(source, "cluster", "setslot", String(slot), "migrating", targetId);
  for (let round = 0; round < 100; round++) {
    const keys = (await cluster.cli(source, "cluster", "getkeysinslot", String(slot), "100")).split("\n").filter((k) => k !== "");
    if (keys.length === 0) break;
    await cluster.cli(source, "migrate", "127.0.0.1", String(target), "", "0", "5000", "keys", ...keys);
  }
  for (const node of cluster.nodes) {
    if (node.pid !== undefined) await cluster.cli(node.port, "cluster", "setslot", String(slot), "node", targetId);
  }
}

/** Three document ids, one on each master. */
async function oneDocPerMaster(prefix: string): Promise<string[]> {
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < 3 && i < 100; i++) {
    const docId = `${prefix}-${i}`;
    const master = await shared.cluster().masterOf(slotOf(docId));
    if (!byMaster.has(master)) byMaster.set(master, docId);
  }
  expect(byMaster.size).toBe(3);
  return [...byMaster.values()];
}

/** A master's node id. */
async function nodeId(port: number): Promise<string> {
  return await shared.cluster().cli(port, "cluster", "myid");
}

describe("RedisAdapter on a Redis Cluster, two instances", () => {
  it("edits many documents spread over every master, each op stored and delivered exactly once", async () => {
    const docs = await docsOnEveryMaster("many", 24);
    await editAndCheck({ docs, opsPerWriter: 8 });
  });

  // A slot move, not a failover: a failover can drop a published revision, whose readers are then
  // told to join again, which takes a reconnecting transport (tested with protocol clients below).
  it("real OTClients over WebSockets on two instances converge while a document's slot moves", async () => {
    const cluster = shared.cluster();
    const docs = await oneDocPerMaster("ws");
    const urls: string[] = [];
    for (const hub of [instance(), instance()]) {
      const httpServer = http.createServer();
      const binding = attachWebSocketServer({ hub, server: httpServer });
      await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
      const address = httpServer.address();
      urls.push(`ws://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/ws`);
      closers.push(async () => {
        await binding.close();
        httpServer.close();
      });
    }
    const editors: { docId: string; client: OTClient<string, TextOp> }[] = [];
    for (const docId of docs) {
      for (const url of urls) {
        const client = new OTClient<string, TextOp>({ type: TextType, transport: new WebSocketTransport(url), docId });
        await client.connect();
        closers.push(async () => await client.disconnect());
        editors.push({ docId, client });
      }
    }
    const random = seededRandom(21);
    const slot = slotOf(docs[0]!);
    const source = await cluster.masterOf(slot);
    // Edit before, during and after the move: at least 30 steps, and on until it is done.
    let moved: Promise<void> | undefined;
    let done = false;
    for (let step = 1; step <= 30 || (!done && step <= 500); step++) {
      for (const { client } of editors) client.submit(randomTextEdit(random, client.snapshot, { deleteChance: 0.3 }));
      if (step === 10) moved = moveSlot(slot).then(() => void (done = true));
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
    await moved;
    expect(await cluster.masterOf(slot, source)).not.toBe(source);
    await waitUntil(() => editors.every(({ client }) => client.synced), "every editor to be synced", 20_000);
    const check = new RedisAdapter(cluster.seeds, { snapshotCacheSize: 0 });
    try {
      for (const docId of docs) {
        const stored = (await check.getRecord(docId)).data as string;
        for (const { client } of editors.filter((e) => e.docId === docId)) expect(client.snapshot).toBe(stored);
      }
    } finally {
      await check.close();
    }
    await cluster.waitHealthy();
  });

  it("moves a document's slot to another master while it is edited (MIGRATING/IMPORTING + MIGRATE)", async () => {
    const cluster = shared.cluster();
    const docs = await docsOnEveryMaster("moved", 6);
    const slot = slotOf(docs[0]!);
    const source = await cluster.masterOf(slot);
    const { rejoins } = await editAndCheck({ docs, opsPerWriter: 12, fault: async () => await moveSlot(slot) });
    expect(await cluster.masterOf(slot, source)).not.toBe(source);
    // Moving a slot loses nothing the old master had: nobody had to join again.
    expect(rejoins).toBe(0);
    await cluster.waitHealthy();
  });

  it("a subscription follows its slot to the new master, and only the moved channel is reported for catch-up", async () => {
    const [moved, stays] = (await docsOnEveryMaster("follow", 6)).sort((a, b) => slotOf(a) - slotOf(b));
    const [writer, reader] = [shared.adapter(), shared.adapter()];
    for (const docId of [moved!, stays!]) await writer.createDocument(docId, "text", "");
    const got: string[] = [];
    for (const docId of [moved!, stays!])
      await reader.subscribe(`ot:{${docId}}:ops`, (notice) => got.push(`${notice.docId}@${notice.revision}`));
    const reported: string[][] = [];
    reader.onResubscribe((channels) => reported.push([...channels]));
    await moveSlot(slotOf(moved!));
    // The writer finds the new master by MOVED; the reader's subscription is there by then or soon after.
    await waitUntil(() => reported.length > 0, "the moved channel to be reported", 10_000);
    expect(reported).toEqual([[`ot:{${moved!}}:ops`]]);
    expect(await writer.commit(moved!, { revision: 1, op: [{ i: "x" }], snapshot: "x" })).toEqual({ status: "committed", revision: 1 });
    await waitUntil(() => got.includes(`${moved!}@1`), "the notice from the slot's new master", 5_000);
  });

  it("fails a master over to its replica mid-editing (CLUSTER FAILOVER on the replica): nothing acked is lost", async () => {
    const cluster = shared.cluster();
    const docs = await docsOnEveryMaster("failover", 12);
    const master = await cluster.masterOf(slotOf(docs[0]!));
    const [replica] = await cluster.replicasOf(master);
    expect(replica).toBeDefined();
    const { rejoins } = await editAndCheck({
      docs,
      opsPerWriter: 12,
      fault: async () => {
        expect(await cluster.cli(replica!, "cluster", "failover")).toBe("OK");
        await waitUntil(
          async () => (await cluster.masterOf(slotOf(docs[0]!), replica).catch(() => 0)) === replica,
          "the replica to take over",
          10_000,
          50,
        );
      },
    });
    // Mostly nobody has to rejoin; when the old master applied a commit as it was demoted (seen
    // about once in ten runs, the commit's WAIT refused), readers of that revision rejoin.
    expect(rejoins).toBeLessThanOrEqual(2 * 2 * docs.length);
    await cluster.waitHealthy();
  });

  it(
    "SIGKILLs a master mid-editing: its replica takes over, every acked op survives (replicaAcks 1), no client is stuck",
    { timeout: 60_000 },
    async () => {
      const cluster = shared.cluster();
      const docs = await docsOnEveryMaster("killed", 12);
      const masterPort = await cluster.masterOf(slotOf(docs[0]!));
      const [replica] = await cluster.replicasOf(masterPort);
      const master = cluster.nodes.find((node) => node.port === masterPort)!;
      const { refusals } = await editAndCheck({
        docs,
        opsPerWriter: 12,
        fault: async () => {
          await master.kill("SIGKILL");
          await waitUntil(
            async () => (await cluster.masterOf(slotOf(docs[0]!), replica).catch(() => 0)) === replica,
            "the replica to take over",
            15_000,
            50,
          );
          // The new master has no replica to confirm commits (replicaAcks 1) until the killed node
          // is back, as its replica: restart it, as an orchestrator would.
          await master.start();
        },
      });
      // Submits to the killed master's slots were refused as transient while it failed over.
      expect(refusals.length).toBeGreaterThan(0);
      expect(new Set(refusals)).toEqual(new Set(["unavailable"]));
      expect(await cluster.replicasOf(replica!)).toEqual([masterPort]);
    },
  );
});
