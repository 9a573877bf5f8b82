// The real OTClient (@open-ot/client) against the real Hub over in-process transports: many
// clients editing one document with dropped connections, rejoins, offline edits and lost
// pub/sub messages. Seeded, bounded in steps and time.
import { OTClient } from "@open-ot/client";
import { TextType, type ServerMessage, type TextOp, type TransportAdapter, type TransportCloseEvent } from "@open-ot/core";
import { afterEach, describe, expect, it } from "vitest";
import { Hub } from "../src/hub.js";
import { InProcessPubSub } from "../src/in-process-pub-sub.js";
import { createInProcessTransport, type InProcessTransport } from "../src/in-process-transport.js";
import { MemoryBackend } from "../src/memory-backend.js";
import { Server } from "../src/server.js";
import { randomTextEdit, seededRandom, waitUntil } from "@open-ot/harness";

/** A random valid op on `doc`: mostly an insert, sometimes a delete of 1 to 3 characters. */
function randomOp(random: () => number, doc: string): TextOp {
  return randomTextEdit(random, doc, { deleteChance: 0.35 });
}

/**
 * Wraps the in-process transport to check guarantee 1 on every connection: after a
 * snapshot or joined, ack/op revisions rise by exactly 1.
 */
class OrderCheckingTransport implements TransportAdapter {
  readonly problems: string[] = [];
  private last: number | undefined;
  constructor(readonly inner: InProcessTransport) {}

  connect(onReceive: (message: unknown) => void): Promise<void> {
    this.last = undefined;
    return this.inner.connect((raw) => {
      const m = raw as ServerMessage;
      if (m.type === "snapshot" || m.type === "joined") this.last = m.revision;
      else if (m.type === "ack" || m.type === "op") {
        if (this.last === undefined) this.problems.push(`${m.type} ${m.revision} before snapshot/joined`);
        else if (m.revision !== this.last + 1) this.problems.push(`${m.type} ${m.revision} after ${this.last}`);
        this.last = m.revision;
      } else if (m.type === "error") this.problems.push(`error ${m.code}: ${m.message}`);
      onReceive(raw);
    });
  }
  send(message: unknown): Promise<void> {
    return this.inner.send(message);
  }
  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }
  onClose(listener: (event: TransportCloseEvent) => void): () => void {
    return this.inner.onClose(listener);
  }
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function run(seed: number, count: number, steps: number): Promise<void> {
  const random = seededRandom(seed);
  const pubsub = new InProcessPubSub({ dropIf: () => random() < 0.03 });
  const backend = new MemoryBackend({ pubsub });
  const server = new Server(backend);
  const hub = new Hub({ server, pubsub, createOnJoin: true, sequencer: { lostNoticeDelayMs: 10 } });
  closers.push(() => hub.close());

  const transports = Array.from(
    { length: count },
    (_, k) => new OrderCheckingTransport(createInProcessTransport(hub, { batch: k % 2 === 0 })),
  );
  const clients = transports.map(
    (transport, k) => new OTClient({ type: TextType, transport, docId: "shared", clientId: `otc-${seed}-${k}`, batch: k % 4 === 1 }),
  );
  const resyncs: unknown[] = [];
  for (const client of clients) client.on("resync", (event) => resyncs.push(event));
  for (const client of clients) closers.push(() => client.disconnect());
  await Promise.all(clients.map((c) => c.connect()));

  let drops = 0;
  for (let step = 0; step < steps; step++) {
    const burst = 1 + Math.floor(random() * 5);
    for (let b = 0; b < burst; b++) {
      const k = Math.floor(random() * count);
      const client = clients[k] as OTClient<string, TextOp>;
      const roll = random();
      if (client.connectionState === "offline") {
        if (roll < 0.5) void client.connect().catch(() => undefined);
        else client.submit(randomOp(random, client.snapshot)); // an offline edit
      } else if (roll < 0.04) {
        (transports[k] as OrderCheckingTransport).inner.simulateDrop();
        drops += 1;
      } else {
        client.submit(randomOp(random, client.snapshot));
      }
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  for (const client of clients) if (client.connectionState === "offline") await client.connect();
  await waitUntil(() => clients.every((c) => c.synced && c.connectionState === "live"), "every client synced", 15_000);
  const final = await backend.getRevision("shared");
  await waitUntil(() => clients.every((c) => c.revision === final), "every client at the final revision", 15_000);

  const record = await backend.getRecord("shared");
  const context = `seed ${seed}, drops ${drops}, revision ${record.v}`;
  for (const t of transports) expect(t.problems, context).toEqual([]);
  for (const c of clients) expect(c.snapshot, `${c.clientId}, ${context}`).toBe(record.data);
  expect(resyncs, context).toEqual([]);
  const history = await backend.getOps("shared", 1);
  expect(new Set(history.map((o) => `${o.clientId}/${o.seq}`)).size, context).toBe(record.v);
  for (const c of clients) {
    const seqs = history.filter((o) => o.clientId === c.clientId).map((o) => o.seq);
    expect(seqs, `${c.clientId}, ${context}`).toEqual(Array.from({ length: c.lastSeq }, (_, i) => i + 1));
  }
  expect(drops, context).toBeGreaterThan(0);
}

describe("Hub integration: real OTClients over in-process transports", () => {
  for (const seed of [11, 12]) {
    it(`20 OTClients with drops, rejoins, offline edits and lost pub/sub messages converge, exactly once (seed ${seed})`, async () => {
      await run(seed, 20, 120);
    });
  }
});
