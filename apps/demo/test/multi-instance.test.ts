import { RedisAdapter } from "@open-ot/adapter-redis";
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { randomTextEdit, seededRandom, startRedisServer, waitUntil, type RedisServer } from "@open-ot/harness";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEditorTransport } from "../src/browser/editor-transport.js";
import { ServerRotation } from "../src/browser/server-rotation.js";
import { bundleDemo, type DemoBundle } from "./support/demo-bundle.js";
import { DemoProcess } from "./support/demo-process.js";
import { expectExactlyOnce } from "./support/exactly-once.js";

const CLIENTS = 20;
const EDIT_MS = 10_000;
const RESTART_AT_MS = 3_500;
const DOC = "scale-test";

describe("two demo instances sharing Redis", () => {
  let bundle: DemoBundle;
  let redis: RedisServer;
  let a: DemoProcess;
  let b: DemoProcess;

  beforeAll(async () => {
    [bundle, redis] = await Promise.all([bundleDemo(), startRedisServer()]);
    // All history is kept, so every resume is a replay and every commit reaches its client as an ack.
    const args = ["--history", "100000", "--rate-limit", "0"];
    a = new DemoProcess({ bundle, redisUrl: redis.url, args });
    b = new DemoProcess({ bundle, redisUrl: redis.url, args });
    await Promise.all([a.start(), b.start()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await redis?.stop();
    await bundle?.cleanup();
  });

  it("20 clients on both instances and both transports converge on Redis's text, each op committed once, across a SIGTERM restart", async () => {
    const seed = Date.now() % 1_000_000;
    // Seeded, so that a failing run can be told apart and replayed.
    const random = seededRandom(seed);
    const context = `(seed ${seed})`;

    const clients = Array.from({ length: CLIENTS }, (_, i) => {
      // Half start on each instance, and each half mixes WebSocket and SSE.
      const servers = i % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
      const kind = i % 4 < 2 ? "ws" : "sse";
      const transport = createEditorTransport({
        rotation: new ServerRotation(servers),
        kind,
        reconnect: { backoff: { initialDelay: 50, maxDelay: 500 }, connectTimeout: 5_000, heartbeat: false, browserEvents: false },
      });
      const client = new OTClient<string, TextOp>({ type: TextType, transport, docId: DOC });
      // Drops: open -> reconnecting transitions.
      let reconnects = 0;
      let previous = transport.status.state;
      transport.onStatus((status) => {
        if (previous === "open" && status.state === "reconnecting") reconnects++;
        previous = status.state;
      });
      const acks = new Map<number, number>();
      client.on("ack", ({ seq }) => acks.set(seq, (acks.get(seq) ?? 0) + 1));
      const errors: string[] = [];
      client.on("resync", (event) => errors.push(`resync ${event.reason} dropped=${JSON.stringify(event.dropped)}`));
      return { client, acks, errors, kind, index: i, startedOnA: i % 2 === 0, reconnects: () => reconnects };
    });
    await Promise.all(clients.map(({ client }) => client.connect()));

    // A plain WebSocket on instance A, to see the close code its shutdown sends.
    const watcher = new WebSocketTransport(`${a.url}/ws`);
    const closeCode = new Promise<number>((resolve) => watcher.onClose((event) => resolve(event.code)));
    await watcher.connect(() => undefined);

    let edits = 0;
    let editsDuringRestart = 0;
    const started = Date.now();
    let restart: Promise<void> | undefined;
    let restartedPid: number | undefined;
    while (Date.now() - started < EDIT_MS) {
      if (restart === undefined && Date.now() - started >= RESTART_AT_MS) {
        restart = (async () => {
          const oldPid = a.pid;
          expect(await a.stop()).toBe(0);
          await a.start();
          restartedPid = a.pid;
          expect(restartedPid).not.toBe(oldPid);
        })();
      }
      const target = clients[Math.floor(random() * clients.length)]!;
      if (target.client.hasDocument) {
        // Mostly inserts of a tag naming the client and the edit, sometimes a short delete.
        const tag = `<${target.index}.${edits}>`;
        target.client.submit(randomTextEdit(random, target.client.snapshot, { insert: () => tag }));
        edits++;
        if (restart !== undefined && restartedPid === undefined) editsDuringRestart++;
      }
      await new Promise((resolve) => setTimeout(resolve, 4));
    }
    await restart;
    expect(restartedPid, "instance A was restarted").toBeDefined();
    expect(await closeCode, "instance A closes its clients with 1001 on SIGTERM").toBe(1001);
    await watcher.disconnect();

    const store = new RedisAdapter(redis.url);
    try {
      let revision = -1;
      await waitUntil(
        async () => {
          revision = await store.getRevision(DOC);
          return clients.every(({ client }) => client.synced && client.connectionState === "live" && client.revision === revision);
        },
        `every client synced at Redis's revision ${context}`,
        30_000,
        50,
      );
      const record = await store.getRecord(DOC);
      expect(record.v).toBe(revision);
      for (const { client, index, errors } of clients) {
        expect(client.snapshot, `client ${index} text ${context}`).toBe(record.data);
        expect(errors, `client ${index} resyncs ${context}`).toEqual([]);
      }

      const committed = await store.getOps(DOC, 1);
      expect(committed.map((c) => c.revision)).toEqual(Array.from({ length: revision }, (_, i) => i + 1));
      // Every committed op once, replaying to the text, and acked once to the client that made it.
      expectExactlyOnce(committed, record.data, clients, context);
      expect(edits).toBeGreaterThan(CLIENTS);
      expect(editsDuringRestart, "edits were made while instance A was down").toBeGreaterThan(0);
      for (const { startedOnA, reconnects, index } of clients) {
        if (startedOnA) expect(reconnects(), `client ${index} (on A) reconnected`).toBeGreaterThanOrEqual(1);
      }
      // Both transports and both instances were in play.
      expect(new Set(clients.map((c) => c.kind))).toEqual(new Set(["ws", "sse"]));
    } finally {
      await Promise.all(clients.map(({ client }) => client.disconnect()));
      await store.close();
    }
  }, 75_000);
});
