// Issue 16, "A bad token must stop a browser": with refuseInBand, a refused connection is
// upgraded and closed at once with the refusal's close code, which is all a browser's
// WebSocket can read (a refused upgrade is only 1006 there). Here the wire; the reconnecting
// client stopping on it in transport-reconnecting/test/security, the browser in
// apps/demo/test/security.
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { rawUpgrade } from "../raw-client.js";
import { startBindingServer, type BindingServer } from "../binding-server.js";
import { createStubHub } from "../stub-hub.js";
import { closeOf, readServerFrames } from "./raw-frames.js";

let server: BindingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function closeFrameFor(s: BindingServer, path: string, headers: Record<string, string> = {}) {
  const { status, socket, response } = await rawUpgrade(s.port, path, headers);
  expect(status).toBe(101);
  const frames = readServerFrames(socket, Buffer.from(response.slice(response.indexOf("\r\n\r\n") + 4), "latin1"));
  await waitUntil(() => frames.some((f) => f.opcode === 8), "the close frame");
  socket.destroy();
  return closeOf(frames.find((f) => f.opcode === 8)!);
}

describe("refusals in band (refuseInBand)", () => {
  it("upgrades a request with a bad or missing token and closes it at once with 4003 and a reason; the hub never sees it", async () => {
    const hub = createStubHub();
    server = await startBindingServer({ hub, refuseInBand: true, verifyToken: (token) => token === "good" });
    expect(await closeFrameFor(server, "/ws?token=bad")).toEqual({ code: 4003, reason: "The token was refused: get a new one." });
    expect((await closeFrameFor(server, "/ws")).code).toBe(4003);
    expect(hub.connections).toHaveLength(0);
    expect(server.binding.connectionCount).toBe(0);
  });

  it("closes a refused origin with 1008 and a connection over the per-address limit with 4029", async () => {
    server = await startBindingServer({
      hub: createStubHub(),
      refuseInBand: true,
      allowedOrigins: ["https://app.example"],
      maxConnectionsPerAddress: 1,
    });
    expect((await closeFrameFor(server, "/ws", { Origin: "https://evil.example" })).code).toBe(1008);
    const first = await rawUpgrade(server.port, "/ws");
    expect((await closeFrameFor(server, "/ws")).code).toBe(4029);
    first.socket.destroy();
  });
});
