// Issue 16, finding 1: no request target may throw out of the SSE handler. It used to read
// req.url with new URL() before any check, so `GET //` killed every server built as the
// README shows.
import type { AddressInfo } from "node:net";
import { rawHttpExchange } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { startSseServer, type TestServer } from "../helpers.js";
import { openRawStream } from "../raw-stream.js";
import { StubHub } from "../stub-hub.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("request targets at the SSE handler", () => {
  it.each(["//", "///", "//:", "//[", "http://", "ws://", "/\\", "//a:99999", "//events", "*"])(
    "leaves GET %j to the application (which answers 404) and keeps serving",
    async (target) => {
      server = await startSseServer({ hub: new StubHub() });
      const { port } = server.server.address() as AddressInfo;
      const answer = await rawHttpExchange(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(answer.status).toBe(404);
      const stream = await openRawStream(`${server.baseUrl}/events`);
      expect(stream.status).toBe(200);
      await stream.sessionId();
      stream.close();
    },
  );

  it("answers POST to //messages the same way, without reading it as /messages", async () => {
    server = await startSseServer({ hub: new StubHub() });
    const { port } = server.server.address() as AddressInfo;
    const answer = await rawHttpExchange(
      port,
      `POST //messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    );
    expect(answer.status).toBe(404);
  });
});
