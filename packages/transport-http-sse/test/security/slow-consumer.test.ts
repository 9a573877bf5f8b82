// Issue 16, finding 7, over SSE: the bytes queued for one stream are bounded strictly, as over
// WebSocket: a write that would pass the bound ends the stream instead.
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "@open-ot/testing";
import { startSseServer, type TestServer } from "../helpers.js";
import { StubHub } from "../stub-hub.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("slow consumer over SSE", () => {
  it("never queues more than maxBufferedBytes for a stream that is not read, and ends it", async () => {
    const maxBufferedBytes = 256 * 1024;
    const queuedAtDrop: number[] = [];
    const hub = new StubHub();
    server = await startSseServer({
      hub,
      maxBufferedBytes,
      logger: { warn: (message, context) => message.includes("slow reader") && queuedAtDrop.push(context?.["buffered"] as number) },
    });
    const { port } = server.server.address() as AddressInfo;
    const socket = connect(port, "127.0.0.1");
    socket.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await waitUntil(() => hub.sessions.length === 1, "the session", 5_000);
    socket.pause(); // never reads again
    const t = "x".repeat(64 * 1024);
    for (let i = 0; i < 512 && server.handler.sessionCount === 1; i++) hub.sessions[0]!.connection.send({ type: "pong", t });
    expect(server.handler.sessionCount).toBe(0);
    expect(queuedAtDrop).toHaveLength(1);
    expect(queuedAtDrop[0]).toBeLessThanOrEqual(maxBufferedBytes);
    socket.destroy();
  });
});
