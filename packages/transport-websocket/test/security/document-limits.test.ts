// Issue 16, findings 5 and 6: a document cannot be grown without bound (and stays usable at
// its limit), and one connection cannot join or create documents without bound.
import { DEFAULT_MAX_DOCUMENT_SIZE } from "@open-ot/server";
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { openRawWsClient, type Answer, type RawWsClient } from "../raw-ws-client.js";
import { startSecuredServer, type SecuredServer } from "./secured-server.js";

let server: SecuredServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Send `message` and resolve with the next answer (the answers after `answers.length`). */
async function ask(client: RawWsClient, message: object): Promise<Answer> {
  const before = client.answers.length;
  client.sendText(JSON.stringify(message));
  await waitUntil(() => client.answers.length > before, `an answer to ${JSON.stringify(message).slice(0, 60)}`, 10_000);
  return client.answers[before]!;
}

describe("document size", () => {
  it("refuses an op past the default maximum (1,048,576 UTF-16 units) with too_large, and the document stays usable", async () => {
    expect(DEFAULT_MAX_DOCUMENT_SIZE).toBe(1_048_576);
    // 8 inserts of 128 KiB, as a client within the default message and rate limits sends them.
    server = await startSecuredServer();
    const client = await openRawWsClient(server.url());
    expect(await ask(client, { type: "join", docId: "big", clientId: "writer_client_00001" })).toMatchObject({
      type: "snapshot",
      revision: 0,
    });
    const chunk = "x".repeat(128 * 1024);
    for (let seq = 1; seq <= 8; seq++) {
      const answer = await ask(client, { type: "op", docId: "big", seq, revision: seq - 1, op: [{ i: chunk }] });
      expect(answer).toMatchObject({ type: "ack", revision: seq });
    }
    const refused = await ask(client, { type: "op", docId: "big", seq: 9, revision: 8, op: [{ r: 5 }, { i: "y" }] });
    expect(refused).toMatchObject({ type: "error", code: "too_large", docId: "big", seq: 9 });
    // Still usable: a join gets the whole document, and an op that does not grow it commits.
    const reader = await openRawWsClient(server.url());
    const snapshot = await ask(reader, { type: "join", docId: "big" });
    expect(snapshot).toMatchObject({ type: "snapshot", revision: 8 });
    expect((snapshot["data"] as string).length).toBe(1_048_576);
    expect(await ask(client, { type: "op", docId: "big", seq: 10, revision: 8, op: [{ d: 1 }, { i: "z" }] })).toMatchObject({
      type: "ack",
      revision: 9,
    });
    expect(await ask(client, { type: "op", docId: "big", seq: 11, revision: 9, op: [{ d: 10 }] })).toMatchObject({
      type: "ack",
      revision: 10,
    });
  });

  it("lets a document already over a lowered maximum shrink, and refuses growing it", async () => {
    server = await startSecuredServer({ server: { maxDocumentSize: 10 } });
    const client = await openRawWsClient(server.url());
    await ask(client, { type: "join", docId: "d", clientId: "writer_client_00002" });
    expect(await ask(client, { type: "op", docId: "d", seq: 1, revision: 0, op: [{ i: "0123456789" }] })).toMatchObject({ type: "ack" });
    expect(await ask(client, { type: "op", docId: "d", seq: 2, revision: 1, op: [{ i: "a" }] })).toMatchObject({
      type: "error",
      code: "too_large",
    });
    expect(await ask(client, { type: "op", docId: "d", seq: 2, revision: 1, op: [{ d: 1 }] })).toMatchObject({ type: "ack", revision: 2 });
  });
});

describe("documents per connection and in all", () => {
  it("refuses the 101st document joined on one connection with too_large, until one is left", async () => {
    server = await startSecuredServer();
    const client = await openRawWsClient(server.url());
    // In batches of 50: within the rate limit's burst of 200 and the batch cap.
    for (let batch = 0; batch < 2; batch++) {
      client.sendText(JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ type: "join", docId: `doc-${batch * 50 + i}` }))));
      await waitUntil(() => client.answers.length === (batch + 1) * 50, "50 snapshots", 10_000);
    }
    expect(client.answers.every((a) => a.type === "snapshot")).toBe(true);
    expect(await ask(client, { type: "join", docId: "doc-100" })).toMatchObject({ type: "error", code: "too_large", docId: "doc-100" });
    client.sendText(JSON.stringify({ type: "leave", docId: "doc-0" }));
    expect(await ask(client, { type: "join", docId: "doc-100" })).toMatchObject({ type: "snapshot" });
  });

  it("creates at most maxCreatedDocuments on join; joins of further unknown documents are not_found", async () => {
    server = await startSecuredServer({ hub: { createOnJoin: true, maxCreatedDocuments: 3 } });
    const client = await openRawWsClient(server.url());
    for (let i = 0; i < 3; i++) expect(await ask(client, { type: "join", docId: `new-${i}` })).toMatchObject({ type: "snapshot" });
    expect(await ask(client, { type: "join", docId: "new-3" })).toMatchObject({ type: "error", code: "not_found" });
    // Existing documents still open.
    const other = await openRawWsClient(server.url());
    expect(await ask(other, { type: "join", docId: "new-0" })).toMatchObject({ type: "snapshot" });
  });
});
