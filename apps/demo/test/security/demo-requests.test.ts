// Issue 16, findings 1, 3 and 6 against the demo as `pnpm demo` runs it (a child process): one
// request target used to kill it, unserved upgrades stayed open until descriptors ran out, and
// documents created on join had no cap.
import { rawHttpExchange, upgradeRequest, waitUntil } from "@open-ot/harness";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleDemo, type DemoBundle } from "../support/demo-bundle.js";
import { DemoProcess } from "../support/demo-process.js";

let bundle: DemoBundle;
let demo: DemoProcess;

beforeAll(async () => {
  bundle = await bundleDemo();
  demo = new DemoProcess({ bundle, args: ["--max-documents", "3"] });
  await demo.start();
}, 60_000);

afterAll(async () => {
  await demo?.stop();
  await bundle?.cleanup();
});

async function healthy(): Promise<boolean> {
  const response = await fetch(`${demo.url}/healthz`);
  return response.status === 200 && ((await response.json()) as { ok?: unknown }).ok === true;
}

describe("the demo server under hostile requests", () => {
  // A path of empty segments is a path (nothing is there: 404); the rest are not paths (400).
  it.each([
    ["//", 404],
    ["///", 404],
    ["//:", 404],
    ["//a:99999", 404],
    ["//[", 400],
    ["http://", 400],
    ["ws://", 400],
    ["/\\", 400],
  ])("answers GET %j with %i and keeps running", async (target, status) => {
    const answer = await rawHttpExchange(demo.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(answer.status).toBe(status);
    expect(await healthy()).toBe(true);
  });

  it("answers 1,000 upgrades to paths it does not serve, and still answers /healthz", async () => {
    const targets = ["/nope", "/ws/", "//", "/WS", "/ws;x"];
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => rawHttpExchange(demo.port, upgradeRequest(targets[i % targets.length]!, demo.port), 5_000)),
      );
      for (const answer of answers) expect(answer).toMatchObject({ status: 404, closed: true });
    }
    expect(await healthy()).toBe(true);
  });

  it("creates at most --max-documents documents on join", async () => {
    const messages: Array<{ type: string; code?: string; docId?: string }> = [];
    const transport = new WebSocketTransport(`ws://127.0.0.1:${demo.port}/ws`);
    await transport.connect((message) => messages.push(message as { type: string }));
    try {
      // The default document exists from the first page load only; these are all new.
      for (let i = 0; i < 4; i++) await transport.send({ type: "join", docId: `fresh-${i}` });
      await waitUntil(() => messages.length === 4, "four answers");
      expect(messages.map((m) => m.type)).toEqual(["snapshot", "snapshot", "snapshot", "error"]);
      expect(messages[3]).toMatchObject({ code: "not_found", docId: "fresh-3" });
    } finally {
      await transport.disconnect();
    }
  });
});
