// Seven documents open at once in one Chromium page over SSE: the editor page's sidebar opens
// them all on ONE OTConnection, so the page holds one EventSource (a browser allows only six
// HTTP/1.1 connections per origin: one EventSource per document would stall the seventh).
// Each stays live and receives an edit made by another client (a Node OTClient).
import { OTClient } from "@open-ot/client";
import { TextType, type TextOp } from "@open-ot/core";
import { CHROMIUM_PATH, chromiumAvailable, chromiumLaunchOptions, waitUntil } from "@open-ot/harness";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleDemo, type DemoBundle } from "./support/demo-bundle.js";
import { DemoProcess } from "./support/demo-process.js";
import { demoHook, EDITOR_INPUT, EDITOR_READY, editorText } from "./support/editor-page.js";

const hasChromium = chromiumAvailable();
const DOCS = Array.from({ length: 7 }, (_, i) => `many-${i}`);

describe.skipIf(!hasChromium)(
  hasChromium ? "seven documents over SSE in one page" : `seven documents over SSE in one page (skipped: ${CHROMIUM_PATH} not found)`,
  () => {
    let bundle: DemoBundle;
    let demo: DemoProcess;
    let browser: Browser;

    beforeAll(async () => {
      bundle = await bundleDemo();
      demo = new DemoProcess({ bundle });
      [browser] = await Promise.all([chromium.launch(chromiumLaunchOptions), demo.start()]);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await demo?.stop();
      await bundle?.cleanup();
    });

    it("all stay live on one EventSource and each receives another client's edit", async () => {
      const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      // Count the EventSources the page creates.
      await page.addInitScript(() => {
        const Native = window.EventSource;
        const counted = window as unknown as { eventSources: number };
        counted.eventSources = 0;
        window.EventSource = class extends Native {
          constructor(url: string | URL, init?: EventSourceInit) {
            super(url, init);
            counted.eventSources++;
          }
        };
      });
      // Six from the URL, the seventh from the sidebar's "new document" form.
      const fromUrl = DOCS.slice(0, 6);
      await page.goto(`${demo.url}/?transport=sse&doc=${fromUrl[0]}&docs=${fromUrl.slice(1).join(",")}`);
      await page.waitForSelector(EDITOR_READY, { timeout: 15_000 });
      await page.fill("#new-doc-name", DOCS[6]!);
      await page.click("#new-doc button[type=submit]");
      await waitUntil(
        async () => (await demoHook(page, (hook) => hook.active())) === DOCS[6] && (await page.$(EDITOR_READY)) !== null,
        "the seventh document shown and editable",
        15_000,
        100,
      );
      expect(await demoHook(page, (hook) => hook.docs())).toEqual(DOCS);
      await waitUntil(
        async () => {
          const states = await page.$$eval("#doc-list li", (rows) => rows.map((r) => r.getAttribute("data-state")));
          return states.length === 7 && states.every((s) => s === "live");
        },
        "every sidebar row live",
        15_000,
        100,
      );

      // Another client edits every document; the page's editor of each shows it.
      const node = DOCS.map(
        (docId) =>
          new OTClient<string, TextOp>({
            type: TextType,
            docId,
            transport: new WebSocketTransport(`${demo.url.replace("http", "ws")}/ws`),
          }),
      );
      try {
        await Promise.all(node.map((c) => c.connect()));
        node.forEach((c, i) => c.submit([{ i: `from node ${i}\n` }]));
        await waitUntil(
          async () => {
            for (const [i, docId] of DOCS.entries()) if ((await editorText(page, docId)) !== `from node ${i}\n`) return false;
            return true;
          },
          "every document's edit in the page",
          15_000,
          100,
        );
        // Switch to the first document from the sidebar and type into it: it goes out on the same connection.
        await page.click(`#doc-list li[data-doc="${DOCS[0]}"] .doc-open`);
        await page.click(EDITOR_INPUT);
        await page.keyboard.press("Control+End");
        await page.keyboard.type("from the page", { delay: 10 });
        await waitUntil(() => node[0]!.snapshot === "from node 0\nfrom the page", "the page's edit at the Node client", 15_000, 50);
        expect(await page.evaluate(() => (window as unknown as { eventSources: number }).eventSources)).toBe(1);
        const statuses = await page.$$eval("#doc-list li .doc-status", (spans) => spans.map((s) => s.textContent ?? ""));
        expect(statuses).toHaveLength(7);
        for (const status of statuses) expect(status).toMatch(/^live/);
        expect(errors).toEqual([]);
      } finally {
        await Promise.all(node.map((c) => c.disconnect()));
        await context.close();
      }
    }, 60_000);
  },
);
