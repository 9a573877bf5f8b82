// The superseded connection, over real sockets on one instance: a client whose connection went
// half-open (a stalled TCP path: nothing forwarded, nothing closed) comes back on a new one, and
// the server closes the old one at once with 4009, instead of keeping it until its own ping
// notices, many seconds later. Two tabs sharing a clientId: the older one stops, saying why.
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { startFaultProxy, type FaultProxy } from "@open-ot/testing";
import { HttpSseTransport } from "@open-ot/transport-http-sse";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { afterEach, describe, expect, it } from "vitest";
import { ReconnectingTransport } from "../src/index.js";
import { waitUntil } from "@open-ot/harness";
import { startServerInstance, type ServerInstance } from "./support/server-instance.js";

const DOC = "superseded-doc";

for (const wire of ["ws", "sse"] as const) {
  describe(`the superseded connection over ${wire}`, () => {
    let instance: ServerInstance | undefined;
    let proxy: FaultProxy | undefined;
    const clients: OTClient<string, TextOp>[] = [];

    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.disconnect()));
      await proxy?.close();
      await instance?.stop();
    });

    function editor(port: number, clientId?: string): { client: OTClient<string, TextOp>; transport: ReconnectingTransport } {
      const base = `http://127.0.0.1:${port}`;
      const transport = new ReconnectingTransport(
        () => (wire === "ws" ? new WebSocketTransport(`ws://127.0.0.1:${port}/ws`) : new HttpSseTransport(base)),
        { heartbeat: { interval: 200, timeout: 500 }, backoff: { initialDelay: 20, maxDelay: 100 }, browserEvents: false },
      );
      const client = new OTClient<string, TextOp>({
        type: TextType,
        docId: DOC,
        transport,
        ...(clientId === undefined ? {} : { clientId }),
      });
      clients.push(client);
      return { client, transport };
    }

    async function type(client: OTClient<string, TextOp>, text: string): Promise<void> {
      client.submit([{ r: client.snapshot.length }, { i: text }]);
      await waitUntil(() => client.synced, `"${text}" acknowledged`, 10_000);
    }

    // Over SSE the proxy cannot hold a stream half-open: the client's POSTs share its pooled,
    // stalled sockets. The two-tabs test below covers superseding over SSE.
    if (wire === "ws")
      it("closes a client's half-open connection with 4009 as soon as the client is back on a new one", async () => {
        instance = await startServerInstance();
        const server = instance;
        proxy = await startFaultProxy({ target: { port: server.port } });
        const { client } = editor(proxy.port);
        await client.connect();
        await waitUntil(() => client.hasDocument, "the snapshot", 10_000);
        await type(client, "before");
        const first = server.connections.filter((c) => c.open);
        expect(first).toHaveLength(1);

        proxy.stallAll();
        // The heartbeat gives the stalled connection up and the client rejoins on a new one; the
        // server, which still sees the old one open, closes it then, not at its own ping's timeout.
        await waitUntil(() => first[0]!.closedByHub !== undefined, "the server to close the old connection", 5_000);
        expect(first[0]!.closedByHub).toEqual({ code: 4009, reason: expect.stringMatching(/newer connection/) as unknown });
        await waitUntil(() => client.synced && client.connectionState === "live", "the client live again", 10_000);
        await type(client, " after");
        expect(server.connections.filter((c) => c.open)).toHaveLength(1);
        await expect(server.backend.getRecord(DOC)).resolves.toMatchObject({ data: "before after" });
      });

    it("two tabs sharing a clientId: the older one is closed with 4009 and stops, saying why; the newer one edits on", async () => {
      instance = await startServerInstance();
      const server = instance;
      const older = editor(server.port, "shared-client-id-000001");
      await older.client.connect();
      await waitUntil(() => older.client.hasDocument, "the older tab's snapshot", 10_000);
      const newer = editor(server.port, "shared-client-id-000001");
      await newer.client.connect();
      await waitUntil(() => older.transport.status.state === "closed", "the older tab to stop", 10_000);
      expect(older.transport.status.lastCloseCode).toBe(4009);
      expect(older.transport.status.lastCloseReason).toMatch(/clientId/);
      await type(newer.client, "newer");
      // The older tab did not come back (no reconnect loop between the tabs).
      expect(server.connections.filter((c) => c.open)).toHaveLength(1);
      expect(older.transport.status.state).toBe("closed");
    });
  });
}
