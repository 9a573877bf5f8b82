// The design choice under test: the SSE transport reports every drop instead of letting the
// EventSource resume silently, so the reconnecting wrapper reconnects with a fresh connect()
// and the OT client rejoins from its revision and resends its pending op.
import { afterEach, expect, it } from "vitest";
import { OTClient } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { HttpSseTransport } from "../src/index.js";
import { startHubServer, waitFor } from "./helpers.js";

type TextOp = Parameters<typeof TextType.apply>[1];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it("OTClients over ReconnectingTransport(HttpSseTransport) lose nothing when every connection is cut repeatedly", async () => {
  const srv = await startHubServer({ doc: "doc-1", text: "" });
  cleanups.push(() => srv.close());
  const make = () =>
    new OTClient<string, TextOp>({
      type: TextType,
      docId: "doc-1",
      transport: new ReconnectingTransport(() => new HttpSseTransport(srv.baseUrl, { connectTimeout: 2_000 }), {
        backoff: { initialDelay: 5, maxDelay: 50 },
      }),
    });
  const alice = make();
  const bob = make();
  cleanups.push(() => Promise.all([alice.disconnect(), bob.disconnect()]).then(() => undefined));
  await Promise.all([alice.connect(), bob.connect()]);

  const cuts = 5;
  const editsPerCut = 10;
  for (let cut = 0; cut < cuts; cut++) {
    for (let i = 0; i < editsPerCut; i++) {
      alice.submit([{ i: "a" }]);
      bob.submit([{ r: bob.snapshot.length }, { i: "b" }]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Cut every TCP connection: streams and POSTs alike, with no close event.
    srv.server.closeAllConnections();
    await waitFor(() => srv.handler.sessionCount === 0, 5_000, "the server to notice the cut");
  }

  await waitFor(() => alice.synced && bob.synced && srv.handler.sessionCount === 2, 20_000, "both clients reconnected and synced");
  const final = await srv.text();
  await waitFor(() => alice.revision === final.revision && bob.revision === final.revision, 20_000, "both at the server's revision");
  expect(alice.snapshot).toBe(final.data);
  expect(bob.snapshot).toBe(final.data);
  // Every edit made it exactly once.
  expect([...final.data].filter((c) => c === "a")).toHaveLength(cuts * editsPerCut);
  expect([...final.data].filter((c) => c === "b")).toHaveLength(cuts * editsPerCut);
});
