// The binding in front of the real hub: what docs/protocol.md's SSE binding promises on the wire.
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/harness";
import { startHubServer } from "./helpers.js";
import { openRawStream, post, type RawEvent, type RawStream } from "./raw-stream.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof startHubServer>[0] = {}) {
  const srv = await startHubServer(options);
  cleanups.push(() => srv.close());
  return srv;
}

async function stream(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
  const s = await openRawStream(url, headers);
  cleanups.push(() => s.close());
  return s;
}

const json = (e: RawEvent) => JSON.parse(e.data) as { type: string; revision?: number; seq?: number; docId?: string };

describe("SSE binding with the hub", () => {
  it("answers a stream join with a snapshot, and every ack and op event's id is its revision", async () => {
    const srv = await start({ text: "abc" });
    const writer = await stream(`${srv.baseUrl}/events?docId=doc-1&clientId=writer_client_0001`);
    const reader = await stream(`${srv.baseUrl}/events?docId=doc-1&clientId=reader_client_0001`);
    const writerSession = await writer.sessionId();
    await reader.sessionId();
    const snapshot = await writer.waitForEvent((e) => e.event === "message");
    expect(json(snapshot)).toMatchObject({ type: "snapshot", docId: "doc-1", revision: 0, data: "abc" });
    await reader.waitForEvent((e) => json(e).type === "snapshot");

    for (let seq = 1; seq <= 3; seq++) {
      const answer = await post(
        `${srv.baseUrl}/messages`,
        { type: "op", docId: "doc-1", revision: seq - 1, seq, op: [{ i: String(seq) }] },
        { "X-Session-Id": writerSession },
      );
      expect(answer.status).toBe(202);
      expect(answer.body).toBeUndefined();
      await writer.waitForEvent((e) => json(e).type === "ack" && json(e).seq === seq);
    }
    await waitUntil(() => reader.events.filter((e) => json(e).type === "op").length === 3, "three ops on the reader");
    const acks = writer.events.filter((e) => json(e).type === "ack");
    const ops = reader.events.filter((e) => json(e).type === "op");
    expect(acks.map((e) => [e.id, json(e).revision])).toEqual([
      ["1", 1],
      ["2", 2],
      ["3", 3],
    ]);
    expect(ops.map((e) => [e.id, json(e).revision])).toEqual([
      ["1", 1],
      ["2", 2],
      ["3", 3],
    ]);
    expect(await srv.text()).toEqual({ revision: 3, data: "321abc" });
  });

  it("resumes from Last-Event-ID: joined at that revision, then exactly the ops after it", async () => {
    const srv = await start();
    const writer = await stream(`${srv.baseUrl}/events?docId=doc-1&clientId=writer_client_0001`);
    const session = await writer.sessionId();
    for (let seq = 1; seq <= 5; seq++) {
      await post(
        `${srv.baseUrl}/messages`,
        { type: "op", docId: "doc-1", revision: seq - 1, seq, op: [{ i: "x" }] },
        { "X-Session-Id": session },
      );
      await writer.waitForEvent((e) => json(e).type === "ack" && json(e).seq === seq);
    }
    // A browser's own reconnect: the first URL (revision=1) and the id of the last event seen.
    const resumed = await stream(`${srv.baseUrl}/events?docId=doc-1&revision=1`, { "Last-Event-ID": "3" });
    await waitUntil(() => resumed.events.filter((e) => ["op", "ack"].includes(json(e).type)).length === 2, "the replay");
    const messages = resumed.events.slice(1).map((e) => [json(e).type, json(e).revision, e.id]);
    expect(messages).toEqual([
      ["joined", 3, "3"],
      ["op", 4, "4"],
      ["op", 5, "5"],
    ]);
  });

  it("joins by POST on a stream opened without a document, and batches when asked", async () => {
    const srv = await start({ text: "hi" });
    const s = await stream(`${srv.baseUrl}/events?batch=1`);
    const session = await s.sessionId();
    const answer = await post(
      `${srv.baseUrl}/messages`,
      [
        { type: "join", docId: "doc-1", clientId: "batch_client_00001" },
        { type: "op", docId: "doc-1", revision: 0, seq: 1, op: [{ r: 2 }, { i: "!" }] },
        { type: "ping", t: 9 },
      ],
      { "X-Session-Id": session },
    );
    expect(answer.status).toBe(202);
    const received: Array<{ type: string; revision?: number; seq?: number; data?: string }> = [];
    await waitUntil(() => {
      received.length = 0;
      for (const e of s.events.slice(1)) {
        const value = JSON.parse(e.data) as unknown;
        for (const m of Array.isArray(value) ? value : [value]) received.push(m as { type: string });
      }
      return received.some((m) => m.type === "ack");
    }, "the ack");
    // The join's snapshot comes before anything about the op (a pong may come first).
    expect(received.filter((m) => m.type !== "pong")[0]).toMatchObject({ type: "snapshot", revision: 0, data: "hi" });
    expect(received.find((m) => m.type === "ack")).toMatchObject({ revision: 1, seq: 1 });
    await waitUntil(() => s.events.some((e) => e.data.includes('"pong"')), "the pong");
    expect(await srv.text()).toEqual({ revision: 1, data: "hi!" });
  });

  it("carries the hub's refusals as error events on the stream", async () => {
    const srv = await start();
    const s = await stream(`${srv.baseUrl}/events?docId=doc-1&revision=99`);
    const error = await s.waitForEvent((e) => json(e).type === "error");
    expect(json(error)).toMatchObject({ type: "error", code: "bad_revision" });
    expect(await srv.text()).toEqual({ revision: 0, data: "" });
  });
});
