// Two Chromium pages, each a CodeMirror editor bound to an OTClient over a real WebSocket, type
// at once into one document on a real server and converge; undo takes back only one's own
// typing; remote carets from presence are drawn at the right place with their names.
import { chromiumAvailable, chromiumLaunchOptions, CHROMIUM_PATH } from "@open-ot/harness";
import { bundleBrowserPage, startPageServer, type PageServer } from "@open-ot/harness/browser-page";
import { readFile } from "node:fs/promises";
import { Hub, MemoryBackend, Server } from "@open-ot/server";
import { waitUntil } from "@open-ot/testing";
import { attachWebSocketServer, type WebSocketBinding } from "@open-ot/transport-websocket/server";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const hasChromium = chromiumAvailable();
const SCREENSHOT = "/tmp/open-ot-codemirror-browser.png";

interface PageApi {
  text(): string;
  status(): { readOnly: string | null } | undefined;
  synced(): boolean;
  revision(): number;
  label(): string;
  head(): number;
  coordsAt(pos: number): { left: number; top: number } | null;
}

function read<T>(page: Page, fn: (api: PageApi) => T): Promise<T> {
  return page.evaluate<T>(`(${fn.toString()})(window.editor)`);
}

// In CI a missing browser is a failure, not a skip.
describe.skipIf(!hasChromium)(
  hasChromium ? "CodeMirror editors in Chromium" : `CodeMirror editors in Chromium (skipped: ${CHROMIUM_PATH} not found)`,
  () => {
    let pageServer: PageServer;
    let binding: WebSocketBinding;
    let hub: Hub;
    let backend: MemoryBackend;
    let server: Server;
    let browser: Browser;
    let origin: string;

    beforeAll(async () => {
      const [script, html] = await Promise.all([
        bundleBrowserPage({
          entry: new URL("./browser/page.ts", import.meta.url),
          packages: ["core", "client", "codemirror", "transport-websocket", "transport-reconnecting"],
        }),
        readFile(new URL("./browser/index.html", import.meta.url), "utf8"),
      ]);
      backend = new MemoryBackend();
      server = new Server(backend);
      hub = new Hub({ server, createOnJoin: true });
      pageServer = await startPageServer({ html, script });
      binding = attachWebSocketServer({ server: pageServer.http, hub });
      origin = pageServer.origin;
      browser = await chromium.launch(chromiumLaunchOptions);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await binding?.close();
      await pageServer?.close();
      await hub?.close();
      await backend?.close();
    });

    async function open(docId: string): Promise<Page> {
      // A context per page: two people, not two tabs of one.
      const page = await (await browser.newContext({ viewport: { width: 900, height: 420 } })).newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`${origin}/?doc=${docId}`);
      await page.waitForSelector(".cm-content[contenteditable=true]", { timeout: 15_000 });
      expect(errors).toEqual([]);
      return page;
    }

    /** Both pages synced at the server's revision, showing its text; returns that text. */
    async function converged(docId: string, ...pages: Page[]): Promise<string> {
      await waitUntil(
        async () => {
          const record = await backend.getRecord(docId);
          for (const page of pages) {
            const [synced, revision, text] = await Promise.all([
              read(page, (e) => e.synced()),
              read(page, (e) => e.revision()),
              read(page, (e) => e.text()),
            ]);
            if (!synced || revision !== record.v || text !== record.data) return false;
          }
          return true;
        },
        "both editors synced with the server",
        15_000,
        50,
      );
      return (await backend.getRecord(docId)).data as string;
    }

    it("two people type at once into one document and converge; undo takes back one's own typing only", async () => {
      await server.createDocument("shared", "text", "first line\nsecond line");
      const [alice, bob] = await Promise.all([open("shared"), open("shared")]);
      expect(await read(alice, (e) => e.status()?.readOnly)).toBeNull();
      expect(await alice.textContent("#status")).toBe("saved");

      await alice.click(".cm-content");
      await alice.keyboard.press("Control+Home");
      await alice.keyboard.press("End");
      await bob.click(".cm-content");
      await bob.keyboard.press("Control+End");
      await Promise.all([alice.keyboard.type(" typed by Alice", { delay: 15 }), bob.keyboard.type(" typed by Bob", { delay: 15 })]);
      expect(await converged("shared", alice, bob)).toBe("first line typed by Alice\nsecond line typed by Bob");

      // Both keep their own caret: the next keys land where each was typing.
      await Promise.all([alice.keyboard.type("!", { delay: 15 }), bob.keyboard.type("?", { delay: 15 })]);
      expect(await converged("shared", alice, bob)).toBe("first line typed by Alice!\nsecond line typed by Bob?");

      // Alice's undo removes her typing (one history group), not Bob's.
      await alice.keyboard.press("Control+z");
      const afterUndo = await converged("shared", alice, bob);
      expect(afterUndo).toContain("second line typed by Bob?");
      expect(afterUndo).not.toContain("Alice");

      // Presence: Bob's page draws Alice's caret, with her name, where her own editor has it.
      const [aliceLabel, aliceHead] = await Promise.all([read(alice, (e) => e.label()), read(alice, (e) => e.head())]);
      const caret = bob.locator(".cm-ot-caret", { hasText: aliceLabel });
      await caret.waitFor();
      expect(await caret.locator(".cm-ot-caret-label").textContent()).toBe(aliceLabel);
      // Presence is coalesced: wait for the latest, then the caret sits where Bob's editor draws that position.
      await waitUntil(
        async () => {
          const expected = await bob.evaluate<{ left: number; top: number } | null>(`window.editor.coordsAt(${aliceHead})`);
          const box = await caret.boundingBox();
          return expected !== null && box !== null && Math.abs(box.x - expected.left) < 3 && Math.abs(box.y - expected.top) < 4;
        },
        "Alice's caret drawn at her head in Bob's editor",
        10_000,
        50,
      );
      await bob.screenshot({ path: SCREENSHOT });
    });
  },
);
