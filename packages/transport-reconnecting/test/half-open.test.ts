// (3) A TCP proxy stalls every connection silently (half-open: nothing forwarded, nothing
// closed); only the heartbeat can notice. OT clients on WebSocket and SSE keep editing.
import { startFaultProxy, waitUntil } from "@open-ot/harness";
import { useCleanups } from "@open-ot/testing";
import { describe, expect, it } from "vitest";
import { expectExactlyOnce, waitForConvergence } from "./support/convergence.js";
import { moreEdits, runSeed, startCast, stopCast } from "./support/editors.js";
import { startServerInstance } from "./support/server-instance.js";

const seed = runSeed();

describe(`half-open connections found by the heartbeat (seed ${seed})`, () => {
  const defer = useCleanups();

  it("every client reconnects after each stall and converges, every op committed exactly once", async () => {
    const server = await startServerInstance();
    defer(() => server.stop());
    const through = await startFaultProxy({ target: { port: server.port } });
    defer(() => through.close());
    const editors = await startCast({
      baseUrl: () => `http://127.0.0.1:${through.port}`,
      docId: "stall-doc",
      seed,
      transport: { heartbeat: { interval: 300, timeout: 700 } },
    });
    defer(() => stopCast(editors));
    for (const e of editors) e.startEditing(100_000);

    for (let stall = 0; stall < 2; stall++) {
      await moreEdits(editors, 5);
      const connectionsBefore = editors.map((e) => e.connections.length);
      const reasons = editors.map(() => new Set<string>());
      const offs = editors.map((e, i) =>
        e.transport.onStatus((s) => {
          if (s.state === "reconnecting" && s.lastCloseReason) reasons[i]!.add(s.lastCloseReason);
        }),
      );
      through.stallAll();
      await waitUntil(
        () => editors.every((e, i) => e.transport.status.state === "open" && e.connections.length > connectionsBefore[i]!),
        "every client to give up its stalled connection and reconnect",
        10_000,
      );
      for (const off of offs) off();
      // No close event ever came: the drop was the heartbeat's verdict (for SSE, possibly a POST
      // that failed on the stalled keep-alive socket first), or, for a client that was between
      // connections when the stall began (a heartbeat that timed out under CPU load, say), the
      // connect timeout of an attempt whose handshake never got through.
      reasons.forEach((set, i) => expect([...set].join(" | "), editors[i]!.options.name).toMatch(/heartbeat|send failed|connectTimeout/));
    }
    await moreEdits(editors, 5);
    for (const e of editors) e.stopEditing();
    await waitForConvergence(editors, server.backend, "stall-doc");
    await expectExactlyOnce(editors, server.backend, "stall-doc");
  });
});
