/**
 * Diagnostic (not a benchmark): does a fresh instance that receives many joins at once end up
 * subscribed to every document? Found while running the many-docs workload, where clients on
 * one instance stopped receiving the other instance's ops.
 *
 * Each round: instance B (a RedisAdapter + Hub) creates 10 documents; a fresh instance A gets
 * 10 joins at the same moment (its subscriber connection is still connecting); joins refused
 * with `internal` are sent again; then B commits one op to each document and the round checks
 * that A's connections received it. Prints one line per round.
 *
 * Run: `node dist/diagnostics/redis-subscribe-race.js [rounds]` (starts its own redis-server).
 */
import { RedisAdapter } from "@open-ot/adapter-redis";
import type { ServerMessage } from "@open-ot/core";
import { Hub, Server, type HubSession } from "@open-ot/server";
import { startRedisServer, waitUntil } from "@open-ot/harness";

const rounds = Number(process.argv[2] ?? 12);
const redis = await startRedisServer();

/** Wait for `condition` at most `ms`; a round that times out is judged on what it has. */
async function until(condition: () => boolean, what: string, ms: number): Promise<void> {
  await waitUntil(condition, what, ms, 20).catch(() => undefined);
}

let broken = 0;
try {
  for (let round = 0; round < rounds; round++) {
    const docs = Array.from({ length: 10 }, (_, i) => `d${i}-r${round}`);
    const adapterB = new RedisAdapter(redis.url);
    for (const d of docs) await adapterB.createDocument(d, "text", "hello");
    const hubB = new Hub({ server: new Server(adapterB) });
    const adapterA = new RedisAdapter(redis.url);
    const hubA = new Hub({ server: new Server(adapterA) });
    const answered = new Set<string>();
    const refused = new Set<string>();
    const received = new Set<string>();
    const sessionsA: HubSession[] = docs.map((docId, i) => {
      const session = hubA.connect({
        send: (message: ServerMessage | readonly ServerMessage[]) => {
          for (const m of [message].flat()) {
            if (m.type === "snapshot") answered.add(docId);
            else if (m.type === "error") refused.add(docId);
            else if (m.type === "op") received.add(docId);
          }
        },
        close: () => undefined,
      });
      session.receive(JSON.stringify({ type: "join", docId, clientId: `clientA${i}xxxxxxxxxxxxxxxx` }));
      return session;
    });
    await until(() => answered.size + refused.size >= docs.length, "every join answered", 5000);
    const refusedFirst = [...refused];
    for (const docId of refusedFirst) sessionsA[docs.indexOf(docId)]?.receive(JSON.stringify({ type: "join", docId }));
    await until(() => answered.size >= docs.length, "every join accepted", 5000);

    const sessionsB = docs.map((docId, i) => {
      const session = hubB.connect({ send: () => undefined, close: () => undefined });
      session.receive(JSON.stringify({ type: "join", docId, clientId: `clientB${i}xxxxxxxxxxxxxxxx` }));
      return session;
    });
    await Promise.all(sessionsB.map((s) => s.idle()));
    docs.forEach((docId, i) => sessionsB[i]?.receive(JSON.stringify({ type: "op", docId, revision: 0, seq: 1, op: [{ i: "x" }] })));
    await until(() => received.size >= docs.length, "every op received", 3000);
    const never = docs.filter((d) => !received.has(d));
    if (never.length > 0) broken += 1;
    process.stdout.write(
      `round ${round}: ${refusedFirst.length} joins refused at first (sent again); ${answered.size}/10 joined; ` +
        `B's op reached A for ${received.size}/10${never.length > 0 ? ` -- never for ${never.join(", ")}` : ""}\n`,
    );
    for (const s of [...sessionsA, ...sessionsB]) s.close();
    await hubA.close();
    await hubB.close();
    await adapterA.close();
    await adapterB.close();
  }
} finally {
  await redis.stop();
}
process.stdout.write(`${broken} of ${rounds} rounds left documents without live delivery\n`);
process.exitCode = broken > 0 ? 1 : 0;
