// Hub.submit (an op committed for a client whose connection is elsewhere, as SSE shared
// sessions do) carries the epoch the connection joined, as the connection's own op would.
import { afterEach, describe, expect, it } from "vitest";
import { RecordingConnection } from "../test/recording-connection.js";
import { Hub } from "./hub.js";
import { MemoryBackend } from "./memory-backend.js";
import { Server } from "./server.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("Hub.submit", () => {
  it("refuses an op of an earlier life of the document (resync_required) and commits one of the current life", async () => {
    const backend = new MemoryBackend();
    await backend.createDocument("doc", "text", "abc");
    const server = new Server(backend);
    const hub = new Hub({ server, pubsub: backend.pubsub });
    closers.push(() => hub.close());
    const conn = new RecordingConnection();
    const session = hub.connect(conn);
    session.receive(JSON.stringify({ type: "join", docId: "doc", clientId: "alice" }));
    const joined = await conn.next("the snapshot");
    expect(joined).toMatchObject({ type: "snapshot", revision: 0 });
    const before = session.epochOf?.("doc");
    expect(before).toBe((await backend.getLineage("doc")).epoch);

    // The document is created anew (restored from another copy) at revision 1: revision 1 of
    // the old life is other content now.
    await expect(backend.restoreDocument("doc", { type: "text", snapshot: "xyz!", revision: 1, ifEpoch: before! })).resolves.toMatchObject({
      status: "restored",
    });
    const after = (await backend.getLineage("doc")).epoch;
    const op = { docId: "doc", op: [{ r: 3 }, { i: "?" }], revision: 1, clientId: "alice" };

    const refusal = await hub.submit({ ...op, seq: 1, epoch: before });
    expect(refusal).toMatchObject({ code: "resync_required", docId: "doc", seq: 1 });
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 1, data: "xyz!" });

    await expect(hub.submit({ ...op, seq: 2, epoch: after })).resolves.toBeUndefined();
    await expect(backend.getRecord("doc")).resolves.toMatchObject({ v: 2, data: "xyz?!" });
  });
});
