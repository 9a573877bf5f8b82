// Issue 16, findings 1 and 3: no request target may throw out of the binding or be read as
// another path, and every upgrade it does not serve is answered and closed.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { rawHttpExchange, upgradeRequest, waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { attachWebSocketServer } from "../../src/server.js";
import { openRawWsClient } from "../raw-ws-client.js";
import { openSockets, startSecuredServer, type SecuredServer } from "./secured-server.js";

let server: SecuredServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function expectStillServing(s: SecuredServer): Promise<void> {
  const client = await openRawWsClient(s.url());
  client.sendText(JSON.stringify({ type: "ping", t: "alive" }));
  await waitUntil(() => client.answers.length === 1, "a pong");
  expect(client.answers[0]).toEqual({ type: "pong", t: "alive" });
  client.ws.close();
}

describe("request targets at the WebSocket binding", () => {
  it.each(["//", "///", "//:", "//[", "http://", "ws://", "/\\", "//a:99999", "*"])(
    "answers an upgrade to %j and closes it",
    async (target) => {
      server = await startSecuredServer();
      const answer = await rawHttpExchange(server.port, upgradeRequest(target, server.port));
      expect(answer.closed).toBe(true);
      expect([400, 404]).toContain(answer.status);
      await expectStillServing(server);
    },
  );

  it("does not read //ws as the root path", async () => {
    server = await startSecuredServer();
    const answer = await rawHttpExchange(server.port, upgradeRequest("//ws?docId=doc-1", server.port));
    expect(answer.status).toBe(404);
    expect(server.binding.connectionCount).toBe(0);
  });

  it.each(["/nope", "/ws/", "//", "/WS", "/ws;x", "/ws%2F"])(
    "answers an upgrade to the unserved path %j with 404 and closes it",
    async (target) => {
      server = await startSecuredServer();
      const answer = await rawHttpExchange(server.port, upgradeRequest(target, server.port));
      expect(answer).toMatchObject({ status: 404, closed: true });
    },
  );

  it("holds no socket for unserved upgrades: 300 of them leave none open", async () => {
    server = await startSecuredServer();
    const s = server;
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 100 }, () => rawHttpExchange(s.port, upgradeRequest("/nope", s.port), 5_000)));
    }
    await waitUntil(async () => (await openSockets(s.http)) === 0, "every unserved upgrade's socket to close", 5_000);
    await expectStillServing(s);
  });

  it("leaves an unserved upgrade to an upgrade listener the application added", async () => {
    const http = createServer();
    const binding = attachWebSocketServer({
      hub: { connect: () => ({ id: "x", receive: () => undefined, close: () => undefined, idle: async () => undefined }) },
      server: http,
    });
    http.on("upgrade", (request, socket) => {
      if (request.url === "/app") socket.end("HTTP/1.1 418 I'm a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      else socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as AddressInfo;
    try {
      expect((await rawHttpExchange(port, upgradeRequest("/app", port))).status).toBe(418);
      expect((await rawHttpExchange(port, upgradeRequest("/other", port))).status).toBe(400);
    } finally {
      await binding.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
