// Issue 16, finding 8: a POST body dripped a byte at a time cannot hold its session's queue:
// it is answered 408 once bodyTimeoutMs has passed, and the session's next POST is served.
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startSseServer, type TestServer } from "../helpers.js";
import { openRawStream, post, type RawStream } from "../raw-stream.js";
import { StubHub } from "../stub-hub.js";

let server: TestServer | undefined;
let stream: RawStream | undefined;
afterEach(async () => {
  stream?.close();
  await server?.close();
  server = undefined;
});

describe("POST body time", () => {
  it("answers a dripped body 408 after bodyTimeoutMs, and serves the session's next POST", async () => {
    server = await startSseServer({ hub: new StubHub(), bodyTimeoutMs: 300 });
    stream = await openRawStream(`${server.baseUrl}/events`);
    const sessionId = await stream.sessionId();
    const { port } = server.server.address() as AddressInfo;
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (answer += chunk));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    const started = performance.now();
    socket.write(
      `POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Session-Id: ${sessionId}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
    const drip = setInterval(() => socket.write(" "), 50);
    // Queued behind the dripping one.
    const next = post(`${server.baseUrl}/messages`, { type: "ping", t: "next" }, { "X-Session-Id": sessionId });
    await closed;
    clearInterval(drip);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect((await next).status).toBe(202);
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
