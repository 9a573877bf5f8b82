// Issue 16, "A bad token must stop a browser", in Chromium: a browser's WebSocket sees a
// refused upgrade only as 1006 and its EventSource a refused stream only as an error, so the
// reconnecting client used to retry a bad token forever (29 attempts in 1.5 s). With the
// bindings' refuseInBand the refusal reaches the page as close code 4003, and the product's
// ReconnectingTransport stops.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { createSseHandler } from "@open-ot/transport-http-sse/server";
import { attachWebSocketServer } from "@open-ot/transport-websocket/server";
import { chromiumAvailable, chromiumLaunchOptions, waitUntil } from "@open-ot/harness";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sourceAliases } from "../../build.mjs";

const hasChromium = chromiumAvailable();

/** The test page's script: refusal-probe.ts bundled for the browser. */
async function bundleProbe(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./support/refusal-probe.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    alias: await sourceAliases(),
    external: ["ws", "eventsource"],
    logLevel: "warning",
  });
  return result.outputFiles[0]!.text;
}

describe.skipIf(!hasChromium)("a refused token in Chromium", () => {
  let browser: Browser;
  let http: HttpServer;
  let checks = 0;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const script = await bundleProbe();
    const backend = new MemoryBackend();
    const hub = new Hub({ server: new Server(backend), createOnJoin: true });
    const policy = {
      refuseInBand: true,
      verifyToken: () => {
        checks++;
        return false;
      },
    };
    const sse = createSseHandler({ hub, ...policy });
    http = createServer((req, res) => {
      if (sse(req, res)) return;
      if (req.url === "/probe.js") res.writeHead(200, { "Content-Type": "text/javascript" }).end(script);
      else res.writeHead(200, { "Content-Type": "text/html" }).end('<!doctype html><script type="module" src="/probe.js"></script>');
    });
    const ws = attachWebSocketServer({ hub, server: http, ...policy });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    close = async () => {
      await Promise.all([ws.close(), sse.close()]);
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    };
    browser = await chromium.launch(chromiumLaunchOptions);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it.each(["ws", "sse"] as const)("stops the ReconnectingTransport over %s with 4003 instead of retrying", async (kind) => {
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => typeof window.startProbe === "function");
      checks = 0;
      await page.evaluate((k) => window.startProbe(k), kind);
      await waitUntil(
        async () => (await page.evaluate(() => window.probeStatus()?.state)) === "closed",
        "the transport to stop",
        5_000,
        50,
      );
      expect(await page.evaluate(() => window.probeStatus()?.lastCloseCode)).toBe(4003);
      const stoppedAfter = checks;
      // Thirty backoff steps later, the page tried nothing more.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(checks).toBe(stoppedAfter);
      expect(stoppedAfter).toBeLessThanOrEqual(2);
    } finally {
      await page.close();
    }
  });
});
