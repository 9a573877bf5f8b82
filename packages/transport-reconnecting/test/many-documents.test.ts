// Many documents over one connection (OTConnection): 50 documents on one WebSocket and on one SSE
// stream through a TCP proxy that cuts and stalls it, documents opened and closed while the
// connection is down, ops of two documents in flight at a drop, and the server's
// documents-per-connection limit. Every document gets the checks of the single-document tests.
import { OTClientError } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { seededRandom, startFaultProxy, waitUntil, type FaultProxy } from "@open-ot/harness";
import { useCleanups } from "@open-ot/testing";
import { describe, expect, it } from "vitest";
import { expectExactlyOnce, waitForConvergence } from "./support/convergence.js";
import type { Wire } from "./support/editor.js";
import { FAST_RECONNECT, runSeed } from "./support/editors.js";
import { startServerInstance, type ServerInstance } from "./support/server-instance.js";
import { SharedConnection, type DocumentEditor } from "./support/shared-connection.js";

const seed = runSeed();
const DOCUMENTS = 50;

/** Wait until `connection`'s transport is open on a connection later than the `before`th. */
function reconnected(connection: SharedConnection, before: number): Promise<void> {
  return waitUntil(
    () => connection.transport?.status.state === "open" && connection.connections.length > before,
    `${connection.options.name} to reconnect`,
    10_000,
  );
}

/** The per-document checks of the single-document tests, for every document both connections hold. */
async function expectEveryDocument(server: ServerInstance, owners: readonly SharedConnection[], docIds: readonly string[]): Promise<void> {
  const editorsOf = (docId: string): DocumentEditor[] => owners.map((owner) => owner.editors.get(docId)!);
  await Promise.all(docIds.map((docId) => waitForConvergence(editorsOf(docId), server.backend, docId, 30_000)));
  for (const docId of docIds) await expectExactlyOnce(editorsOf(docId), server.backend, docId);
}

/** A server, and a fault proxy in front of it, both stopped after the test. */
async function serverBehindProxy(defer: (cleanup: () => unknown) => void): Promise<{ server: ServerInstance; through: FaultProxy }> {
  const server = await startServerInstance();
  defer(() => server.stop());
  const through = await startFaultProxy({ target: { port: server.port } });
  defer(() => through.close());
  return { server, through };
}

async function start(wire: Wire, name: string, through: FaultProxy, random: () => number, queue: boolean): Promise<SharedConnection> {
  return new SharedConnection({
    name,
    wire,
    baseUrl: () => `http://127.0.0.1:${through.port}`,
    random: seededRandom(Math.floor(random() * 2 ** 32)),
    transport: { ...FAST_RECONNECT, heartbeat: { interval: 300, timeout: 700 }, ...(queue ? {} : { queue: false }) },
  });
}

describe.each<Wire>(["ws", "sse"])(`many documents over one %s connection (seed ${seed})`, (wire) => {
  const defer = useCleanups();

  it(
    `${DOCUMENTS} documents through cuts and stalls (in random order): every document converges, every op committed exactly once`,
    { timeout: 60_000 },
    async () => {
      const { server, through } = await serverBehindProxy(defer);
      const random = seededRandom(seed ^ (wire === "ws" ? 0x1 : 0x2));
      const owners = [await start(wire, "q", through, random, true), await start(wire, "nq", through, random, false)];
      defer(() => Promise.allSettled(owners.map((o) => o.connection.close())));
      const docIds = Array.from({ length: DOCUMENTS }, (_, i) => `many-${i}`);
      // All opened at once: one connection each, every join on it.
      await Promise.all(owners.flatMap((owner) => docIds.map((docId) => owner.open(docId))));
      expect(server.connections.length, "server connections for 2 x 50 documents").toBe(2);

      for (const owner of owners) owner.startEditing();
      const faults = ["cut", "stall", "cut", "stall"].sort(() => random() - 0.5);
      for (const fault of faults) {
        const before = owners.map((o) => o.connections.length);
        if (fault === "cut") through.cutAll();
        else through.stallAll();
        await Promise.all(owners.map((o, i) => reconnected(o, before[i]!)));
        await new Promise((resolve) => setTimeout(resolve, 100 + random() * 300));
      }
      for (const owner of owners) owner.stopEditing();
      // Every document gets an edit from both connections, so that each check has markers to count.
      for (const owner of owners) for (const editor of owner.editors.values()) editor.edit();
      await expectEveryDocument(server, owners, docIds);

      // One server connection per transport connection: the documents never opened their own.
      const opened = owners.reduce((sum, o) => sum + o.connections.length, 0);
      expect(server.connections.length).toBeLessThanOrEqual(opened);
      for (const owner of owners) expect(owner.connections.length, `${owner.options.name}'s connections`).toBeGreaterThan(faults.length);
    },
  );

  it("documents opened and closed while reconnecting: the open ones rejoin, the closed ones get nothing", { timeout: 40_000 }, async () => {
    const { server, through } = await serverBehindProxy(defer);
    const random = seededRandom(seed ^ 0x0c);
    const shared = await start(wire, "s", through, random, wire === "ws");
    // A second client on its own connection, straight to the server, edits every document.
    const other = new SharedConnection({
      name: "o",
      wire,
      baseUrl: () => server.httpUrl,
      random: seededRandom(seed ^ 0x0d),
      transport: FAST_RECONNECT,
    });
    defer(() => Promise.allSettled([shared.connection.close(), other.connection.close()]));
    const docIds = Array.from({ length: 8 }, (_, i) => `oc-${i}`);
    await Promise.all(docIds.map((docId) => shared.open(docId)));
    await Promise.all([...docIds, "oc-new-1", "oc-new-2"].map((docId) => other.open(docId)));

    // Counted before the cut: an attempt the wrapper makes while the proxy refuses may be accepted
    // just after refuse(false), and then it is the reconnection, counted before it opened.
    const before = shared.connections.length;
    through.refuse(true);
    through.cutAll();
    await waitUntil(() => shared.transport?.status.state === "reconnecting", "the shared connection to notice the cut", 10_000);
    // While down: close three, close and reopen one, open two new ones, edit the rest.
    const closed = ["oc-0", "oc-1", "oc-2"];
    await Promise.all(closed.map((docId) => shared.editors.get(docId)!.client.disconnect()));
    for (const docId of closed) shared.editors.delete(docId);
    await shared.editors.get("oc-3")!.client.disconnect();
    shared.editors.delete("oc-3");
    const opening = Promise.all(["oc-3", "oc-new-1", "oc-new-2"].map((docId) => shared.open(docId)));
    for (const docId of ["oc-4", "oc-5", "oc-6", "oc-7"]) shared.editors.get(docId)!.edit();
    expect(shared.connection.documentIds.slice().sort()).toEqual(["oc-3", "oc-4", "oc-5", "oc-6", "oc-7", "oc-new-1", "oc-new-2"]);

    through.refuse(false);
    await opening;
    await reconnected(shared, before);
    const open = [...shared.editors.keys()];
    for (const docId of open) {
      shared.editors.get(docId)!.edit();
      other.editors.get(docId)!.edit();
    }
    for (const docId of closed) other.editors.get(docId)!.edit();
    await expectEveryDocument(server, [shared, other], open);
    // The other client's edits of the closed documents are committed, and none reached the shared connection.
    await waitUntil(
      async () => (await Promise.all(closed.map((d) => server.backend.getRecord(d)))).every((r) => r.v >= 1),
      "the closed documents' edits",
      10_000,
    );
    const latest = shared.connections.at(-1)!;
    expect(latest.messages.filter((m) => m.docId !== undefined && closed.includes(m.docId))).toEqual([]);
    // (A join sent while down also waits in the offline queue, and goes after the handshake's: answered twice.)
    const rejoined = new Set(latest.messages.filter((m) => m.type === "snapshot" || m.type === "joined").map((m) => m.docId));
    expect([...rejoined].sort()).toEqual(open.slice().sort());
  });

  it(
    "two documents with ops in flight when the connection drops: each resends its own, each committed once",
    { timeout: 40_000 },
    async () => {
      const { server, through } = await serverBehindProxy(defer);
      const random = seededRandom(seed ^ 0x2f);
      const shared = await start(wire, "f", through, random, wire === "sse");
      const other = new SharedConnection({
        name: "o",
        wire,
        baseUrl: () => server.httpUrl,
        random: seededRandom(seed ^ 0x30),
        transport: FAST_RECONNECT,
      });
      defer(() => Promise.allSettled([shared.connection.close(), other.connection.close()]));
      const docIds = ["fly-x", "fly-y"];
      for (const docId of docIds) {
        await shared.open(docId);
        await other.open(docId);
      }
      const [x, y] = docIds.map((docId) => shared.editors.get(docId)!);
      const committedSeqs = async (): Promise<number> =>
        (await Promise.all(docIds.map((d) => server.backend.getOps(d, 1))))
          .flat()
          .filter((op) => op.clientId === shared.connection.clientId).length;
      for (const round of ["never sent", "committed, acks lost", "either"] as const) {
        const before = shared.connections.length;
        const committed = await committedSeqs();
        if (round === "never sent") through.stallAll();
        if (round === "committed, acks lost") server.dropAcks = true;
        x!.edit();
        y!.edit();
        // The other client's acks would be dropped too: it edits in the other rounds.
        if (round !== "committed, acks lost") for (const docId of docIds) other.editors.get(docId)!.edit();
        if (round === "committed, acks lost") {
          await waitUntil(async () => (await committedSeqs()) === committed + 2, "both ops committed", 10_000);
        }
        expect([x!.client.synced, y!.client.synced], `${round}: both have an op in flight at the drop`).toEqual([false, false]);
        through.cutAll();
        server.dropAcks = false;
        await reconnected(shared, before);
        // Rejoined: each resent its own op (or learnt of its commit from the replay).
        await waitUntil(() => x!.client.synced && y!.client.synced, `${round}: both documents' ops acknowledged`, 10_000);
      }
      await expectEveryDocument(server, [shared, other], docIds);
      // One seq sequence across the documents of one connection.
      const seqs = (await Promise.all(docIds.map((d) => server.backend.getOps(d, 1))))
        .flat()
        .filter((op) => op.clientId === shared.connection.clientId)
        .map((op) => op.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs.length).toBe(6);
    },
  );

  it("without the reconnecting wrapper: a drop takes every document offline, connect() rejoins them all", { timeout: 30_000 }, async () => {
    const { server, through } = await serverBehindProxy(defer);
    const random = seededRandom(seed ^ 0x91);
    const plain = new SharedConnection({ name: "p", wire, baseUrl: () => `http://127.0.0.1:${through.port}`, random, reconnecting: false });
    const other = new SharedConnection({
      name: "o",
      wire,
      baseUrl: () => server.httpUrl,
      random: seededRandom(seed ^ 0x92),
      transport: FAST_RECONNECT,
    });
    defer(() => Promise.allSettled([plain.connection.close(), other.connection.close()]));
    const docIds = ["plain-1", "plain-2", "plain-3"];
    for (const docId of docIds) {
      await plain.open(docId);
      await other.open(docId);
    }
    for (const docId of docIds) plain.editors.get(docId)!.edit();
    through.cutAll();
    await waitUntil(
      () => docIds.every((d) => plain.editors.get(d)!.client.connectionState === "offline"),
      "every document to go offline",
      10_000,
    );
    expect(plain.connection.state).toBe("offline");
    // The drop itself, which each document reports; anything else stays an incident.
    for (const editor of plain.editors.values()) {
      expect(editor.incidents.splice(0).map((i) => i.split(":")[0])).toEqual(["error connection_lost"]);
    }
    for (const docId of docIds) {
      plain.editors.get(docId)!.edit();
      other.editors.get(docId)!.edit();
    }
    await plain.connection.connect();
    expect(plain.connection.state).toBe("open");
    for (const docId of docIds) plain.editors.get(docId)!.edit();
    await expectEveryDocument(server, [plain, other], docIds);
    expect(server.connections.filter((c) => c.open).length, "one connection each").toBe(2);
  });
});

describe("opening documents on one connection", () => {
  const defer = useCleanups();

  it("concurrent opens of one document share one join and one client", async () => {
    const server = await startServerInstance();
    defer(() => server.stop());
    const shared = new SharedConnection({
      name: "c",
      wire: "ws",
      baseUrl: () => server.httpUrl,
      random: seededRandom(seed),
      transport: FAST_RECONNECT,
    });
    defer(() => shared.connection.close());
    const opened = await Promise.all([
      shared.connection.open("c-1", { type: TextType }),
      shared.connection.open("c-1", { type: TextType }),
      shared.open("c-1"),
    ]);
    expect(opened[1]).toBe(opened[0]);
    expect(opened[2].client).toBe(opened[0]);
    expect(shared.connections[0]!.messages.filter((m) => m.docId === "c-1").map((m) => m.type)).toEqual(["snapshot"]);
    await expect(shared.connection.open("c-1", { type: { ...TextType, name: "text-copy" } })).rejects.toThrow(/open with the type "text"/);
  });

  it("refuses one more document with too_large, and takes it once another is closed", async () => {
    const server = await startServerInstance({ maxDocumentsPerConnection: 3 });
    defer(() => server.stop());
    const shared = new SharedConnection({
      name: "l",
      wire: "ws",
      baseUrl: () => server.httpUrl,
      random: seededRandom(seed),
      transport: FAST_RECONNECT,
    });
    defer(() => shared.connection.close());
    for (const docId of ["l-1", "l-2", "l-3"]) await shared.open(docId);
    const refused = await shared.open("l-4").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(OTClientError);
    expect((refused as OTClientError).code).toBe("too_large");
    expect(shared.connection.documentIds).toEqual(["l-1", "l-2", "l-3"]);
    await shared.editors.get("l-1")!.client.disconnect();
    const fourth = await shared.open("l-4");
    expect(fourth.client.connectionState).toBe("live");
    expect(shared.connection.documentIds).toEqual(["l-2", "l-3", "l-4"]);
  });
});
