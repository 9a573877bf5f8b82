// Waiting for editors to settle, and the checks every fault test ends with.
import type { MemoryBackend } from "@open-ot/server";
import { waitUntil } from "@open-ot/harness";
import { expect } from "vitest";
import type { Editor } from "./editor.js";

/** What the checks read of an editor: one client of one document and what it recorded. */
export type EditorView = Pick<Editor, "client" | "markers" | "incidents" | "wireViolations" | "clientViolations"> & {
  readonly options: { readonly name: string };
  readonly transport: { readonly status: { readonly state: string } };
};

/** Wait until every editor is live, has nothing pending and holds the server's revision and text. */
export async function waitForConvergence(
  editors: readonly EditorView[],
  backend: MemoryBackend,
  docId: string,
  timeoutMs = 20_000,
): Promise<void> {
  await waitUntil(
    async () => {
      const record = await backend.getRecord(docId);
      return editors.every(
        (e) =>
          e.client.connectionState === "live" && e.client.synced && e.client.revision === record.v && e.client.snapshot === record.data,
      );
    },
    "every editor to hold the server's revision and text with nothing pending",
    timeoutMs,
  ).catch(async (error: unknown) => {
    const record = await backend.getRecord(docId);
    const states = editors.map(
      (e) =>
        `${e.options.name}: ${e.client.connectionState}/${e.client.state} rev ${e.client.revision} transport ${e.transport.status.state}`,
    );
    throw new Error(`${(error as Error).message}; server at ${record.v}; ${states.join("; ")}`);
  });
}

/**
 * Every client and the server hold the same text; every marker each editor inserted is in it
 * exactly once (no edit lost, none applied twice); no (clientId, seq) was committed twice; and
 * no client received a revision twice or skipped one, per connection and through its events.
 */
export async function expectExactlyOnce(editors: readonly EditorView[], backend: MemoryBackend, docId: string): Promise<void> {
  const record = await backend.getRecord(docId);
  const text = record.data as string;
  for (const editor of editors) expect(editor.client.snapshot, `${editor.options.name}'s text`).toBe(text);

  const early = process.env.RECONNECT_DEBUG ? await backend.getOps(docId, 1) : undefined;
  for (const editor of early ? editors : []) {
    for (const marker of editor.markers) {
      const hits = early!.filter((op) => JSON.stringify(op.op).includes(marker));
      if (hits.length !== 1)
        console.log(
          "DEBUG",
          editor.options.name,
          editor.client.clientId,
          marker,
          JSON.stringify(hits),
          JSON.stringify(early!.filter((op) => op.clientId === editor.client.clientId).map((op) => [op.revision, op.seq])),
        );
    }
  }
  let markerChars = 0;
  for (const editor of editors) {
    expect(editor.markers.length, `${editor.options.name} made edits`).toBeGreaterThan(0);
    const wrong = editor.markers
      .map((marker) => ({ marker, count: text.split(marker).length - 1 }))
      .filter(({ count }) => count !== 1)
      .map(({ marker, count }) => `${marker} x${count}`);
    const incidents = editor.incidents.filter((i) => !i.startsWith("error send_failed")).slice(-20);
    expect(wrong, `${editor.options.name}'s markers not present exactly once; client incidents: ${incidents.join(" || ")}`).toEqual([]);
    markerChars += editor.markers.reduce((sum, marker) => sum + marker.length, 0);
  }
  expect(text.length, "the text holds the markers and nothing else").toBe(markerChars);
  for (const editor of editors) {
    // Every edit here is valid and the whole history is kept, so a refusal, a resync from a
    // snapshot or a protocol violation is a bug even when the texts agree. It is also the path
    // where an old copy of an op still on its way can commit after the client rebased its
    // edits under the same seq (see the client README on refusals): fail on the cause, not
    // only on a missing marker.
    const incidents = editor.incidents.filter((i) => !i.startsWith("error send_failed"));
    expect(incidents, `${editor.options.name}: refusals, resyncs or protocol violations`).toEqual([]);
  }

  const ops = await backend.getOps(docId, 1);
  expect(ops.map((op) => op.revision)).toEqual(Array.from({ length: record.v }, (_, i) => i + 1));
  const ids = ops.map((op) => `${op.clientId}#${op.seq}`);
  expect(new Set(ids).size, "distinct (clientId, seq) among committed ops").toBe(ops.length);

  for (const editor of editors) {
    expect(editor.wireViolations(), `${editor.options.name}: revisions per connection`).toEqual([]);
    expect(editor.clientViolations(), `${editor.options.name}: revisions through client events`).toEqual([]);
  }
}
