// Randomised convergence: N OTClients over simulated transports against a reference server,
// with deliveries interleaved at random, connections broken (some of what was on the wire
// still arrives), rejoins, short histories (snapshots instead of replays), refusals injected
// once per op and now and then for a join (transient ones retried), and now and then a lost delivery (a gap the client must notice and rejoin for). After draining, every client must hold the server's text, and each
// client's ops must have been committed exactly once, in seq order with no seq left out.
import { TextType, type TextOp } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import type { OTClientError } from "./ot-client-error.js";
import { OTClient } from "./ot-client.js";
import { ReferenceServer, type InjectedRefusal } from "./test-support/reference-server.js";
import { pick, randomInt, seededRandom } from "@open-ot/harness";
import { SimReconnectingTransport, SimTransport } from "./test-support/sim-transport.js";

const DOC = "sim-doc";
const SEEDS = 150;
const STEPS = 500;
const MAX_DRAIN_ROUNDS = 2000;

type Kind = "plain" | "reconnecting+queue" | "reconnecting";

interface SimClient {
  readonly client: OTClient<string, TextOp>;
  readonly transport: SimTransport;
  readonly kind: Kind;
  readonly errors: OTClientError[];
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Code-unit indices of `text` that do not fall inside a surrogate pair. */
function boundaries(text: string): number[] {
  const result = [0];
  let index = 0;
  for (const char of text) {
    index += char.length;
    result.push(index);
  }
  return result;
}

const ALPHABET = ["a", "b", "c", "é", "中", "😀", "🎉", " "];

function randomEdit(random: () => number, text: string, uniqueChar: string | undefined): TextOp {
  const bounds = boundaries(text);
  const at = pick(random, bounds);
  if (uniqueChar !== undefined) return [{ r: at }, { i: uniqueChar }];
  if (random() < 0.6 || bounds.length < 2) {
    let insert = "";
    for (let n = 1 + randomInt(random, 3); n > 0; n--) insert += pick(random, ALPHABET);
    return [{ r: at }, { i: insert }];
  }
  const start = randomInt(random, bounds.length - 1);
  const end = start + 1 + randomInt(random, Math.min(4, bounds.length - 1 - start));
  return [{ r: bounds[start]! }, { d: bounds[end]! - bounds[start]! }];
}

/** How often the runs went through the paths worth testing, summed over all seeds. */
const reached = {
  duplicates: 0,
  refusals: 0,
  replays: 0,
  snapshotRebaseCommitted: 0,
  snapshotRebaseUncommitted: 0,
  gapRejoins: 0,
  ignoredStaleTraffic: 0,
};

async function run(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const insertOnly = seed % 2 === 0;
  const refusals: InjectedRefusal[] = ["internal", "unavailable", "rate_limited", "resync_required", "bad_revision"];
  const server = new ReferenceServer({
    docId: DOC,
    keep: pick(random, [1, 3, 8, 1000]),
    refuse: () => (random() < 0.05 ? pick(random, refusals) : undefined),
    refuseJoin: () => (random() < 0.03 ? "unavailable" : undefined),
  });

  const clients: SimClient[] = [];
  const count = 2 + randomInt(random, 4);
  for (let i = 0; i < count; i++) {
    const kind = pick<Kind>(random, ["plain", "reconnecting+queue", "reconnecting"]);
    const transport = kind === "plain" ? new SimTransport(server) : new SimReconnectingTransport(server, kind === "reconnecting+queue");
    const client = new OTClient<string, TextOp>({
      type: TextType,
      transport,
      docId: DOC,
      clientId: `c${i}`,
      // Transient refusals are retried after a timer; the simulation drives turns, not time.
      retry: { initialDelay: 0, maxDelay: 0 },
      logger: {
        warn: (message) => {
          if (message.startsWith("revision gap")) reached.gapRejoins++;
        },
        debug: (message) => {
          if (message.startsWith("ignored traffic that arrived before")) reached.ignoredStaleTraffic++;
        },
      },
    });
    const errors: OTClientError[] = [];
    client.on("error", (error) => errors.push(error));
    client.on("resync", (event) => {
      if (event.pendingCommitted) reached.snapshotRebaseCommitted++;
      else reached.snapshotRebaseUncommitted++;
    });
    clients.push({ client, transport, kind, errors });
    client.connect().catch(() => {});
  }

  let unique = 0xe000; // private-use characters: each insert-only edit is recognisable
  const submitted: string[] = [];

  const reconnect = async (sim: SimClient): Promise<void> => {
    if (sim.transport instanceof SimReconnectingTransport) {
      if (sim.transport.isDown) await sim.transport.reconnect();
    } else if (sim.client.connectionState === "offline") {
      sim.client.connect().catch(() => {});
    }
  };

  for (let step = 0; step < STEPS; step++) {
    const sim = pick(random, clients);
    const action = random();
    if (action < 0.25) {
      if (sim.client.hasDocument) {
        const char = insertOnly ? String.fromCharCode(unique++) : undefined;
        sim.client.submit(randomEdit(random, sim.client.snapshot, char));
        if (char !== undefined) submitted.push(char);
      }
    } else if (action < 0.55) {
      if (sim.transport.connection !== undefined) server.processOne(sim.transport.connection);
    } else if (action < 0.89) {
      sim.transport.deliverOne();
    } else if (action < 0.9) {
      sim.transport.loseOneDelivery(random);
    } else if (action < 0.95) {
      const pendingCount = sim.transport.connection?.toServer.length ?? 0;
      sim.transport.breakConnection(randomInt(random, pendingCount + 1));
    } else {
      await reconnect(sim);
    }
    await tick();
  }

  // Drain: reconnect everyone and move every message until nothing is left to do.
  let rounds = 0;
  for (; rounds < MAX_DRAIN_ROUNDS; rounds++) {
    for (const sim of clients) await reconnect(sim);
    let moved = false;
    for (const sim of clients) {
      while (sim.transport.connection !== undefined && server.processOne(sim.transport.connection)) moved = true;
      while (sim.transport.deliverOne()) moved = true;
    }
    await tick();
    const quiet = clients.every((s) => s.client.connectionState === "live" && s.client.synced);
    if (!moved && quiet) break;
  }
  if (rounds >= MAX_DRAIN_ROUNDS && process.env.SIM_DEBUG) {
    for (const s of clients) {
      console.log(
        s.kind,
        s.client.clientId,
        s.client.connectionState,
        s.client.state,
        s.client.hasDocument ? s.client.revision : "-",
        s.errors.map((e) => e.code + ":" + e.message),
      );
    }
    console.log("server", server.revision);
  }
  expect(rounds, `seed ${seed}: drained`).toBeLessThan(MAX_DRAIN_ROUNDS);

  for (const { client, errors } of clients) {
    expect(client.snapshot, `seed ${seed}: ${client.clientId} converged`).toBe(server.text);
    expect(client.revision, `seed ${seed}: ${client.clientId} revision`).toBe(server.revision);
    const bad = errors.filter((e) => ["edits_dropped", "protocol_violation", "bad_server_message"].includes(e.code));
    expect(
      bad.map((e) => e.message),
      `seed ${seed}: ${client.clientId} errors`,
    ).toEqual([]);
    // Exactly once: this client's commits are seqs 1..lastSeq, each once, in order.
    const seqs = server.log.filter((c) => c.clientId === client.clientId).map((c) => c.seq);
    expect(seqs, `seed ${seed}: ${client.clientId} seqs`).toEqual(Array.from({ length: client.lastSeq }, (_, i) => i + 1));
  }
  if (insertOnly) {
    // Every edit is in the document exactly once: none lost, none doubled.
    // Inserts are single BMP characters, so code units are the characters.
    expect(server.text.split("").sort(), `seed ${seed}: every insert exactly once`).toEqual([...submitted].sort());
  }
  for (const { client } of clients) await client.disconnect();
  reached.duplicates += server.stats.duplicates;
  reached.refusals += server.stats.refusals;
  reached.replays += server.stats.replays;
}

describe("convergence simulation", () => {
  it(`converges with each op committed exactly once over ${SEEDS} seeds`, async () => {
    for (let seed = 1; seed <= SEEDS; seed++) await run(seed);
    // The runs must have gone through the hard paths, or they prove little.
    if (process.env.SIM_DEBUG) console.log(reached);
    for (const [path, times] of Object.entries(reached)) expect(times, path).toBeGreaterThan(0);
  });
});
