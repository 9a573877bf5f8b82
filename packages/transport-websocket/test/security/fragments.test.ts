// Issue 16, finding 8: a message in too many fragments is closed with 1009 ("message too big",
// the reconnecting client stops and reports it), not 1008 (policy violation), at a documented
// limit.
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { rawUpgrade, socketClosed } from "../raw-client.js";
import { startSecuredServer, type SecuredServer } from "./secured-server.js";
import { closeOf, fragmentedText, readServerFrames } from "./raw-frames.js";

let server: SecuredServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A ping message of exactly `bytes` bytes. */
function ping(bytes: number): string {
  const envelope = JSON.stringify({ type: "ping", t: "" }).length;
  return JSON.stringify({ type: "ping", t: "f".repeat(bytes - envelope) });
}

async function upgraded(s: SecuredServer) {
  const { socket, response } = await rawUpgrade(s.port, "/ws");
  const head = response.indexOf("\r\n\r\n") + 4;
  return { socket, frames: readServerFrames(socket, Buffer.from(response.slice(head), "latin1")) };
}

describe("message fragments", () => {
  it("takes a message in 1,024 fragments (the default maxMessageFragments)", async () => {
    server = await startSecuredServer();
    const { socket, frames } = await upgraded(server);
    socket.write(fragmentedText(ping(4096), 1024));
    await waitUntil(() => frames.length === 1, "the pong");
    expect(JSON.parse(frames[0]!.payload.toString())).toMatchObject({ type: "pong" });
    socket.destroy();
  });

  it("closes a message in 1,025 fragments with 1009 and a reason", async () => {
    server = await startSecuredServer();
    const { socket, frames } = await upgraded(server);
    socket.write(fragmentedText(ping(4096), 1025));
    await waitUntil(() => frames.some((f) => f.opcode === 8), "the close frame");
    expect(closeOf(frames.find((f) => f.opcode === 8)!)).toEqual({ code: 1009, reason: "message too big: too many fragments" });
    socket.destroy();
    await socketClosed(socket);
  });
});
