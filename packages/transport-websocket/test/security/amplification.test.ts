// Issue 16, finding 4: whatever a frame holds, the server answers it at most once, charges all
// of it before handling any, and never sends more than it was sent.
import { waitUntil } from "@open-ot/testing";
import { afterEach, describe, expect, it } from "vitest";
import { openRawWsClient } from "../raw-ws-client.js";
import { startSecuredServer, type SecuredServer } from "./secured-server.js";

let server: SecuredServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("batch amplification over WebSocket", () => {
  it("answers a 1 MiB frame of 524,287 elements with one too_large error, then closes with 1009", async () => {
    server = await startSecuredServer();
    const client = await openRawWsClient(server.url());
    let bytesReceived = 0;
    client.ws.on("message", (data: Buffer) => (bytesReceived += data.length));
    const frame = `[${Array.from({ length: 524_287 }, () => "1").join(",")}]`;
    expect(frame.length).toBeLessThanOrEqual(1024 * 1024);
    client.sendText(frame);
    expect(await client.closed).toBe(1009);
    expect(client.answers).toHaveLength(1);
    expect(client.answers[0]).toMatchObject({ type: "error", code: "too_large" });
    expect(bytesReceived).toBeLessThan(1024);
  });

  it("refuses a batch over the tokens left whole, with one rate_limited error and nothing handled", async () => {
    server = await startSecuredServer({ binding: { rateLimit: { messagesPerSecond: 0.001, burst: 100 } } });
    const client = await openRawWsClient(server.url());
    const pings = (from: number, n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ type: "ping", t: from + i })));
    client.sendText(pings(0, 60));
    await waitUntil(() => client.answers.length === 60, "60 pongs");
    client.sendText(pings(60, 60)); // 40 tokens left: none of the 60 is handled
    await waitUntil(() => client.answers.length === 61, "one error");
    client.sendText(pings(120, 40)); // exactly what is left
    await waitUntil(() => client.answers.length === 101, "40 more pongs");
    const after = client.answers.slice(60);
    expect(after[0]).toMatchObject({ type: "error", code: "rate_limited" });
    expect(after.slice(1).map((a) => a.t)).toEqual(Array.from({ length: 40 }, (_, i) => 120 + i));
  });

  it("answers 5,000 bad messages sent at once with at most burst + refill + maxRefused + 1 messages", async () => {
    server = await startSecuredServer();
    const client = await openRawWsClient(server.url());
    const started = performance.now();
    for (let i = 0; i < 5_000; i++) client.sendText("not json");
    expect(await client.closed).toBe(4029);
    // The bucket refills at 100 tokens/s while the server works through the frames, so a slow
    // machine earns a few more answers; an amplifying server would send thousands.
    const refilled = Math.ceil(((performance.now() - started) / 1000) * 100);
    expect(client.answers.length).toBeLessThanOrEqual(200 + refilled + 10 + 1);
  });
});
