// (1) The server dies and a new one starts on the same port over the same documents, three
// times, while OT clients on WebSocket and SSE keep editing.
import { MemoryBackend } from "@open-ot/server";
import { afterEach, describe, it } from "vitest";
import { waitUntil } from "@open-ot/harness";
import { expectExactlyOnce, waitForConvergence } from "./support/convergence.js";
import type { Editor } from "./support/editor.js";
import { moreEdits, runSeed, startCast, stopCast } from "./support/editors.js";
import { startServerInstance, type ServerInstance } from "./support/server-instance.js";

const seed = runSeed();

describe(`server killed and restarted on the same port (seed ${seed})`, () => {
  let instance: ServerInstance | undefined;
  let editors: Editor[] = [];

  afterEach(async () => {
    await stopCast(editors);
    await instance?.stop();
  });

  it("every client converges on the server's text, every op committed exactly once, revisions in order", async () => {
    const backend = new MemoryBackend({ historyLimit: Infinity }); // the whole history is audited
    instance = await startServerInstance({ backend });
    const port = instance.port;
    editors = await startCast({ baseUrl: () => `http://127.0.0.1:${port}`, docId: "restart-doc", seed });
    for (const e of editors) e.startEditing(400);

    for (let restart = 0; restart < 3; restart++) {
      await moreEdits(editors, 10);
      const connectionsBefore = editors.map((e) => e.connections.length);
      await instance.kill();
      instance = undefined;
      await waitUntil(() => editors.every((e) => e.transport.status.state !== "open"), "every client to notice the server is gone", 10_000);
      // Edits made while the server is down wait in the clients.
      await moreEdits(editors, 3);
      instance = await startServerInstance({ backend, port });
      await waitUntil(
        () => editors.every((e, i) => e.transport.status.state === "open" && e.connections.length > connectionsBefore[i]!),
        "every client to reconnect to the new server",
        10_000,
      );
    }
    await moreEdits(editors, 10);
    for (const e of editors) e.stopEditing();
    await waitForConvergence(editors, backend, "restart-doc");
    await expectExactlyOnce(editors, backend, "restart-doc");
  });
});
