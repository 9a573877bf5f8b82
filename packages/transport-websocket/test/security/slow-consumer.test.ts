// Issue 16, finding 7: the bytes queued for one connection are bounded strictly: the
// connection is closed at the bound, not after a grace period in which the backlog grows.
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { rawUpgrade } from "../raw-client.js";
import { startBindingServer, type BindingServer } from "../binding-server.js";
import { createStubHub } from "../stub-hub.js";
import { clientFrame } from "./raw-frames.js";

let server: BindingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("slow consumer over WebSocket", () => {
  it("never queues more than maxBufferedBytes for a client that does not read, and closes it", async () => {
    const maxBufferedBytes = 256 * 1024;
    const queuedAtClose: number[] = [];
    server = await startBindingServer({
      hub: createStubHub(),
      maxBufferedBytes,
      closeTimeoutMs: 200,
      logger: {
        warn: (message, context) => {
          if (message.includes("does not keep up")) queuedAtClose.push(context?.["bufferedAmount"] as number);
        },
      },
    });
    const slow = await rawUpgrade(server.port, "/ws");
    slow.socket.pause(); // stops reading: the kernel buffers fill, then the server's
    // Ask the stub hub for 32 MiB of pongs at once.
    slow.socket.write(clientFrame(1, Buffer.from(JSON.stringify({ type: "flood", count: 512, size: 64 * 1024 })), true));
    const s = server;
    await waitUntil(() => s.binding.connectionCount === 0, "the slow consumer to be dropped", 10_000);
    expect(queuedAtClose).toHaveLength(1);
    expect(queuedAtClose[0]).toBeLessThanOrEqual(maxBufferedBytes);
    slow.socket.destroy();
  });
});
