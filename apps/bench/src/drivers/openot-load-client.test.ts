import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { LoadMetrics } from "./load-metrics.js";
import { OpenOtLoadClient } from "./openot-load-client.js";

/** A scripted server on a real socket: the test reads what the client sends and answers by hand. */
async function scriptedServer(): Promise<{
  url: string;
  next(): Promise<Record<string, unknown>>;
  send(m: unknown): void;
  close(): Promise<void>;
}> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const received: Record<string, unknown>[] = [];
  const waiting: ((m: Record<string, unknown>) => void)[] = [];
  let socket: WebSocket | undefined;
  wss.on("connection", (s) => {
    socket = s;
    s.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      const waiter = waiting.shift();
      if (waiter === undefined) received.push(m);
      else waiter(m);
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    next: () => {
      const m = received.shift();
      return m === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(m);
    },
    send: (m) => socket?.send(JSON.stringify(m)),
    close: async () => {
      for (const s of wss.clients) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

const DOC = "doc-1";
let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe("OpenOtLoadClient", () => {
  it("answers resync_required as docs/protocol.md says: rejoins from its revision, ignores what comes before `joined`, resends the op under its seq", async () => {
    const server = await scriptedServer();
    const metrics = new LoadMetrics();
    const client = new OpenOtLoadClient({ index: 0, url: server.url, instance: 0, docId: DOC }, metrics, {
      targetSize: 1000,
      random: () => 0,
    });
    cleanup = async () => {
      await client.close();
      await server.close();
    };
    const connected = client.connect();
    expect(await server.next()).toMatchObject({ type: "join", docId: DOC });
    server.send({ type: "snapshot", docId: DOC, revision: 0, data: "", docType: "text" });
    await connected;

    client.start();
    const first = await server.next();
    expect(first).toMatchObject({ type: "op", revision: 0, seq: 1 });
    const stamp = (first.op as { i: string }[])[0]!.i;
    // Another client's op is committed first; then the server refuses ours.
    server.send({ type: "op", docId: DOC, revision: 1, op: [{ i: "AAA" }], author: "other" });
    server.send({ type: "error", docId: DOC, code: "resync_required", message: "too old", seq: 1 });

    const join = await server.next();
    expect(join).toMatchObject({ type: "join", docId: DOC, revision: 1 });
    // Delivered under the old join before the new one is answered: ignored, and sent again after `joined`.
    server.send({ type: "op", docId: DOC, revision: 2, op: [{ r: 3 }, { i: "BBB" }], author: "other" });
    server.send({ type: "joined", docId: DOC, revision: 1 });
    const resent = await server.next();
    expect(resent).toEqual({ type: "op", docId: DOC, revision: 1, seq: 1, op: [{ r: 3 }, { i: stamp }] });
    server.send({ type: "op", docId: DOC, revision: 2, op: [{ r: 3 }, { i: "BBB" }], author: "other" });

    const stopped = client.stop();
    server.send({ type: "ack", docId: DOC, revision: 3, seq: 1 });
    await stopped;
    await client.waitForRevision(3);
    expect(client.text()).toBe(`AAABBB${stamp}`);
    const data = metrics.toJSON();
    expect(data.errors).toEqual({ resync_required: 1 });
    expect(data.orderViolations).toBe(0);
  });
});
