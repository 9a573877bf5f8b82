// Issue 16, "A bad token must stop a browser", over SSE: a browser's EventSource cannot read
// the status of a refused stream, so with refuseInBand the refusal is a 200 stream holding one
// close event with the close code (4003 for a token), then the end.
import { afterEach, describe, expect, it } from "vitest";
import { startSseServer, type TestServer } from "../helpers.js";
import { openRawStream, post } from "../raw-stream.js";
import { StubHub } from "../stub-hub.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("SSE refusals in band (refuseInBand)", () => {
  it("answers a stream with a bad or missing token with one close event (4003) and ends it; the hub never sees it", async () => {
    const hub = new StubHub();
    server = await startSseServer({ hub, refuseInBand: true, verifyToken: (token) => token === "good" });
    for (const query of ["?token=bad", ""]) {
      const stream = await openRawStream(`${server.baseUrl}/events${query}`);
      expect(stream.status).toBe(200);
      expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const close = await stream.waitForEvent((e) => e.event === "close");
      expect(JSON.parse(close.data)).toMatchObject({ code: 4003 });
      await expect.poll(() => stream.ended).toBe(true);
      expect(stream.events).toHaveLength(1);
    }
    expect(hub.sessions).toHaveLength(0);
  });

  it("still answers a refused POST with its HTTP status, which fetch can read", async () => {
    server = await startSseServer({ hub: new StubHub(), refuseInBand: true, verifyToken: (token) => token === "good" });
    expect((await post(`${server.baseUrl}/messages`, { type: "ping" }, { Authorization: "Bearer bad", "X-Session-Id": "x" })).status).toBe(
      401,
    );
  });
});
