// Issue 16, "Tokens that expire": verifyToken may grant a principal and an expiry; the
// connection is closed with 4003 when the token expires, and an application can revoke a
// principal's connections.
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { startBindingServer, type BindingServer } from "../binding-server.js";
import { createStubHub, type StubHub } from "../stub-hub.js";
import { openRawWsClient } from "../raw-ws-client.js";

let server: BindingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("token lifetime over WebSocket", () => {
  let hub: StubHub;

  it("hands the hub the granted principal, and closes the connection with 4003 when the token expires", async () => {
    hub = createStubHub();
    const granted = Date.now();
    server = await startBindingServer({ hub, verifyToken: (token) => ({ principal: `user-${token}`, expiresAt: Date.now() + 300 }) });
    const client = await openRawWsClient(`${server.url()}?token=alice`);
    expect(hub.connections[0]?.options).toMatchObject({ principal: "user-alice", remoteAddress: "127.0.0.1" });
    expect(await client.closed).toBe(4003);
    expect(Date.now() - granted).toBeGreaterThanOrEqual(290);
    await waitUntil(() => server?.binding.connectionCount === 0, "the connection to be gone");
  });

  it("revokes every connection of one principal with 4003, and keeps the others", async () => {
    hub = createStubHub();
    server = await startBindingServer({ hub, verifyToken: (token) => ({ principal: token.split(".")[0]! }) });
    const [a1, a2, b] = await Promise.all(
      ["alice.1", "alice.2", "bob.1"].map((token) => openRawWsClient(`${server!.url()}?token=${token}`)),
    );
    const reasons: string[] = [];
    a1!.ws.on("close", (_code, reason) => reasons.push(reason.toString()));
    expect(server.binding.policy.revoke("alice", "account suspended")).toBe(2);
    expect(await a1!.closed).toBe(4003);
    expect(await a2!.closed).toBe(4003);
    expect(reasons).toEqual(["account suspended"]);
    b!.sendText(JSON.stringify({ type: "ping", t: "still here" }));
    await waitUntil(() => b!.answers.length === 1, "bob's pong");
  });
});
