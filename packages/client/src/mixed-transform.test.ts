// Mixed clients: half of the OTClients transform with ot-text-unicode (standing for clients
// written from docs/protocol.md alone), half with our TextType, against a server that
// transforms with TextType. Clients stall for long stretches while typing, so their ops reach
// the server based hundreds of revisions back, and edits replace text (an insert next to a
// delete, in both orders), where component order decides ties. Every client must end with the
// server's text, each op committed exactly once.
import { TextType, type OTType, type TextOp } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import { OTClient } from "./ot-client.js";
import { OtTextUnicodeType } from "./test-support/ot-text-unicode-type.js";
import { ReferenceServer } from "./test-support/reference-server.js";
import { pick, randomInt, seededRandom } from "@open-ot/harness";
import { SimTransport } from "./test-support/sim-transport.js";

const DOC = "mixed-doc";
const SEEDS = 40;
const STEPS = 3000;
const CLIENTS = 6;
const ALPHABET = ["a", "b", "c", " ", "é", "中"];

interface SimClient {
  readonly client: OTClient<string, TextOp>;
  readonly transport: SimTransport;
  /** The step until which this client's connection moves nothing (a stalled network). */
  stalledUntil: number;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function randomText(random: () => number): string {
  let s = "";
  for (let n = 1 + randomInt(random, 3); n > 0; n--) s += pick(random, ALPHABET);
  return s;
}

/** An insert, a delete, or a replacement spelled delete-then-insert or insert-then-delete. */
function randomEdit(random: () => number, text: string): TextOp {
  const at = randomInt(random, text.length + 1);
  const n = Math.min(text.length - at, 1 + randomInt(random, 3));
  const kind = n === 0 ? 0 : randomInt(random, 4);
  if (kind === 0) return [{ r: at }, { i: randomText(random) }];
  if (kind === 1) return [{ r: at }, { d: n }];
  if (kind === 2) return [{ r: at }, { d: n }, { i: randomText(random) }];
  return [{ r: at }, { i: randomText(random) }, { d: n }];
}

async function run(seed: number): Promise<{ maxStaleness: number }> {
  const random = seededRandom(seed);
  const server = new ReferenceServer({ docId: DOC, keep: 100_000 });
  const clients: SimClient[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const type: OTType<string, TextOp> = i % 2 === 0 ? TextType : OtTextUnicodeType;
    const transport = new SimTransport(server);
    const client = new OTClient<string, TextOp>({ type, transport, docId: DOC, clientId: `c${i}` });
    clients.push({ client, transport, stalledUntil: 0 });
    client.connect().catch(() => {});
  }
  let maxStaleness = 0;
  const processOne = (sim: SimClient): boolean => {
    const connection = sim.transport.connection;
    if (connection === undefined) return false;
    const next = connection.toServer[0] as { type?: string; revision?: number } | undefined;
    if (next?.type === "op" && typeof next.revision === "number") {
      maxStaleness = Math.max(maxStaleness, server.revision - next.revision);
    }
    return server.processOne(connection);
  };

  for (let step = 0; step < STEPS; step++) {
    const sim = pick(random, clients);
    if (sim.stalledUntil <= step && random() < 0.004) sim.stalledUntil = step + 500 + randomInt(random, 700);
    const stalled = sim.stalledUntil > step;
    const action = random();
    if (action < 0.4) {
      if (sim.client.hasDocument) sim.client.submit(randomEdit(random, sim.client.snapshot));
    } else if (!stalled) {
      while (processOne(sim));
      while (sim.transport.deliverOne());
    }
    await tick();
  }

  // Drain: the stalls end, and every message moves until nothing is left.
  for (let round = 0; round < 2000; round++) {
    let moved = false;
    for (const sim of clients) {
      while (processOne(sim)) moved = true;
      while (sim.transport.deliverOne()) moved = true;
    }
    await tick();
    if (!moved && clients.every((s) => s.client.synced)) break;
  }

  for (const [i, { client }] of clients.entries()) {
    const label = `seed ${seed}: client ${i} (${i % 2 === 0 ? "TextType" : "ot-text-unicode"})`;
    expect(client.snapshot, `${label} converged`).toBe(server.text);
    const seqs = server.log.filter((c) => c.clientId === client.clientId).map((c) => c.seq);
    expect(seqs, `${label}: each op once, in order`).toEqual(Array.from({ length: client.lastSeq }, (_, k) => k + 1));
  }
  for (const { client } of clients) await client.disconnect();
  if (process.env.SIM_DEBUG) console.log(seed, server.revision, maxStaleness);
  return { maxStaleness };
}

describe("clients on ot-text-unicode and on TextType together", () => {
  it(`converge with stale ops, over ${SEEDS} seeds`, async () => {
    let maxStaleness = 0;
    for (let seed = 1; seed <= SEEDS; seed++) maxStaleness = Math.max(maxStaleness, (await run(seed)).maxStaleness);
    // The runs must have sent ops based hundreds of revisions back, or they prove little.
    expect(maxStaleness).toBeGreaterThanOrEqual(250);
  });
});
