// (2) A TCP proxy cuts every connection every few hundred milliseconds for 20 seconds
// (RECONNECT_CHAOS_MS) while OT clients on WebSocket and SSE keep editing.
import { seededRandom, startFaultProxy } from "@open-ot/harness";
import { useCleanups } from "@open-ot/testing";
import { describe, expect, it } from "vitest";
import { expectExactlyOnce, waitForConvergence } from "./support/convergence.js";
import { moreEdits, runSeed, startCast, stopCast } from "./support/editors.js";
import { startServerInstance } from "./support/server-instance.js";

const seed = runSeed();
const CHAOS_MS = Number(process.env.RECONNECT_CHAOS_MS ?? 20_000);

describe(`connections cut every few hundred ms for ${CHAOS_MS} ms (seed ${seed})`, () => {
  const defer = useCleanups();

  it(
    "every client converges on the server's text, every op committed exactly once, revisions in order",
    { timeout: CHAOS_MS + 40_000 },
    async () => {
      const server = await startServerInstance();
      defer(() => server.stop());
      const through = await startFaultProxy({ target: { port: server.port } });
      defer(() => through.close());
      const editors = await startCast({ baseUrl: () => `http://127.0.0.1:${through.port}`, docId: "cut-doc", seed });
      defer(() => stopCast(editors));
      for (const e of editors) e.startEditing(100_000);

      const random = seededRandom(seed ^ 0x5eed);
      const end = Date.now() + CHAOS_MS;
      let cuts = 0;
      while (Date.now() < end) {
        // The fault schedule itself: a cut every 200 to 500 ms.
        await new Promise((resolve) => setTimeout(resolve, 200 + random() * 300));
        through.cutAll();
        cuts++;
      }
      await moreEdits(editors, 5);
      for (const e of editors) e.stopEditing();
      await waitForConvergence(editors, server.backend, "cut-doc", 30_000);
      await expectExactlyOnce(editors, server.backend, "cut-doc");
      // The test did what it says: the clients went through many connections.
      expect(cuts).toBeGreaterThan(CHAOS_MS / 600);
      for (const e of editors) expect(e.connections.length, `${e.options.name}'s connections`).toBeGreaterThan(Math.min(5, cuts / 2));
    },
  );
});
