// The README's to-do list (examples/todo-list.browser.ts, bundled as it is) on two Chromium
// pages over a real WebSocket server: each page sees the other in the people line (presence),
// an item added on one page shows on the other.
import { chromiumAvailable, chromiumLaunchOptions, CHROMIUM_PATH } from "@open-ot/harness";
import { bundleBrowserPage, startPageServer, type PageServer } from "@open-ot/harness/browser-page";
import { JsonType } from "@open-ot/json";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { attachWebSocketServer, type WebSocketBinding } from "@open-ot/transport-websocket/server";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const hasChromium = chromiumAvailable();
const HTML = `<!doctype html><html><head><meta charset="utf-8" /><title>to-do</title></head><body><div id="todo"></div><script type="module" src="/page.js"></script></body></html>`;

// In CI a missing browser is a failure, not a skip.
describe.skipIf(!hasChromium)(
  hasChromium ? "the React to-do list in Chromium" : `the React to-do list in Chromium (skipped: ${CHROMIUM_PATH} not found)`,
  () => {
    let pageServer: PageServer;
    let binding: WebSocketBinding;
    let hub: Hub;
    let browser: Browser;
    let origin: string;

    beforeAll(async () => {
      const script = await bundleBrowserPage({
        entry: new URL("../examples/todo-list.browser.ts", import.meta.url),
        packages: ["core", "client", "json", "react", "transport-websocket", "transport-reconnecting"],
        define: { "process.env.NODE_ENV": '"production"' },
      });
      const backend = new MemoryBackend({ types: [JsonType] });
      const server = new Server(backend, { types: [JsonType] });
      await server.createDocument("todo", JsonType.name, { items: [] });
      hub = new Hub({ server, docType: JsonType.name });
      pageServer = await startPageServer({ html: HTML, script });
      binding = attachWebSocketServer({ server: pageServer.http, hub });
      origin = pageServer.origin;
      browser = await chromium.launch(chromiumLaunchOptions);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await binding?.close();
      await pageServer?.close();
      await hub?.close();
    });

    async function open(): Promise<Page> {
      // A context per page: two people, not two tabs of one.
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`${origin}/`);
      await page.getByText("saved").waitFor({ timeout: 15_000 });
      expect(errors).toEqual([]);
      return page;
    }

    it("two pages see each other in the people line and share an added item", async () => {
      const [alice, bob] = await Promise.all([open(), open()]);
      // The example mounts with the default name: each sees the other as "guest", not itself alone.
      await alice.getByText("Also here: guest").waitFor({ timeout: 15_000 });
      await bob.getByText("Also here: guest").waitFor({ timeout: 15_000 });

      await alice.getByRole("textbox").fill("milk");
      await alice.getByText("add").click();
      await bob.getByText("milk").waitFor({ timeout: 15_000 });

      // Bob closes the page: his entry goes when the server drops it (after the reconnect grace).
      await bob.context().close();
      await alice.getByText("Nobody else is here.").waitFor({ timeout: 15_000 });
    });
  },
);
