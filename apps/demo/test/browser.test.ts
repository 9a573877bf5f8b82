import { RedisAdapter } from "@open-ot/adapter-redis";
import { CHROMIUM_PATH, chromiumAvailable, chromiumLaunchOptions, type RedisServer, startRedisServer, waitUntil } from "@open-ot/harness";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleDemo, type DemoBundle } from "./support/demo-bundle.js";
import { DemoProcess } from "./support/demo-process.js";
import { demoHook, EDITOR_INPUT, EDITOR_READY, editorText } from "./support/editor-page.js";
import { twoPeopleEditTheTodoList } from "./support/todo-pages.js";

// Skipped where Chromium is missing, except in CI, where that fails the run.
const hasChromium = chromiumAvailable();
const SCREENSHOT = "/tmp/open-ot-demo-browser.png";
const DOC = "browser-test";

/** Poll the page every 100 ms (each check is a round trip to the browser). */
function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  return waitUntil(condition, what, timeoutMs, 100);
}

async function openEditor(browser: Browser, url: string): Promise<Page> {
  // A context per page: two people, not two tabs of one.
  const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  await page.waitForSelector(EDITOR_READY, { timeout: 15_000 });
  expect(errors, `page errors on ${url}`).toEqual([]);
  return page;
}

describe.skipIf(!hasChromium)(
  hasChromium
    ? "the editor page in Chromium"
    : `the editor page in Chromium (skipped: ${CHROMIUM_PATH} not found; install it with apt-get install chromium, as .ci/run does)`,
  () => {
    let bundle: DemoBundle;
    let redis: RedisServer;
    let one: DemoProcess;
    let two: DemoProcess;
    let browser: Browser;

    beforeAll(async () => {
      [bundle, redis] = await Promise.all([bundleDemo(), startRedisServer()]);
      one = new DemoProcess({ bundle, redisUrl: redis.url });
      two = new DemoProcess({ bundle, redisUrl: redis.url });
      const launched = chromium.launch(chromiumLaunchOptions);
      [browser] = await Promise.all([launched, one.start(), two.start()]);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await Promise.allSettled([one?.stop(), two?.stop()]);
      await redis?.stop();
      await bundle?.cleanup();
    });

    it("two people typing at once, on two instances (WebSocket and SSE), end with the same text as Redis", async () => {
      const alice = await openEditor(browser, `${one.url}/?doc=${DOC}`);
      const bob = await openEditor(browser, `${two.url}/?doc=${DOC}&transport=sse`);
      expect(await alice.textContent("#server")).toContain("WebSocket");
      expect(await bob.textContent("#server")).toContain("SSE");

      // A first line, so that the two can type at different places at the same time.
      await alice.click(EDITOR_INPUT);
      await alice.keyboard.type("middle", { delay: 10 });
      await waitFor("Bob to see Alice's first line", async () => (await editorText(bob)) === "middle", 10_000);

      await bob.click(EDITOR_INPUT);
      await bob.keyboard.press("Control+Home");
      await alice.keyboard.press("Control+End");
      await Promise.all([
        (async () => {
          await alice.keyboard.type(" Alice on WS???", { delay: 25 });
          for (let i = 0; i < 3; i++) await alice.keyboard.press("Backspace", { delay: 10 });
          await alice.keyboard.type(".", { delay: 25 });
        })(),
        (async () => {
          await bob.keyboard.type("Bob on SSE!!!", { delay: 25 });
          for (let i = 0; i < 3; i++) await bob.keyboard.press("Backspace", { delay: 10 });
          await bob.keyboard.press("Enter");
          await bob.keyboard.type("ok ", { delay: 25 });
        })(),
      ]);

      const store = new RedisAdapter(redis.url);
      try {
        let stored = "";
        await waitFor(
          "both pages saved, with the text Redis holds",
          async () => {
            stored = (await store.getRecord(DOC)).data as string;
            const [a, b, aSync, bSync] = await Promise.all([
              editorText(alice),
              editorText(bob),
              alice.getAttribute("#sync", "data-synced"),
              bob.getAttribute("#sync", "data-synced"),
            ]);
            return a === stored && b === stored && aSync === "true" && bSync === "true";
          },
          15_000,
        );
        // Each typed at their own caret, which the other's edits moved along: nothing interleaved.
        expect(stored).toBe("Bob on SSE\nok middle Alice on WS.");
        const revision = (await store.getRecord(DOC)).v;
        expect(await alice.textContent("#revision")).toBe(String(revision));
        expect(await bob.textContent("#revision")).toBe(String(revision));
      } finally {
        await store.close();
      }

      // Then both at the same spot, the end, at the same time: they interleave, and must still agree.
      const before = await editorText(alice);
      await Promise.all(
        [alice, bob].map(async (page, n) => {
          await page.keyboard.press("Control+End");
          await page.keyboard.type(n === 0 ? " abcdefgh" : " 12345678", { delay: 20 });
          for (let i = 0; i < 2; i++) await page.keyboard.press("Backspace", { delay: 15 });
          await page.keyboard.type(n === 0 ? "xyz" : "789", { delay: 20 });
        }),
      );
      const check = new RedisAdapter(redis.url);
      try {
        let stored = "";
        await waitFor(
          "both pages to agree with Redis after typing at the same spot",
          async () => {
            stored = (await check.getRecord(DOC)).data as string;
            const values = await Promise.all([editorText(alice), editorText(bob)]);
            return values.every((v) => v === stored);
          },
          15_000,
        );
        expect(stored.startsWith(before)).toBe(true);
        // 9 + 3 characters typed by each, 2 deleted by each (whoever's they were).
        expect(stored.length).toBeLessThanOrEqual(before.length + 2 * (9 + 3) - 2);
        expect(stored.length).toBeGreaterThanOrEqual(before.length + 2 * (9 + 3) - 4);
      } finally {
        await check.close();
      }

      // Presence across instances: each page counts both people and shows the other at the
      // line and column of the other's caret, and draws the other's caret (with their name) in
      // the editor where the other's own editor has its selection head.
      for (const [page, other] of [
        [alice, bob],
        [bob, alice],
      ] as const) {
        expect(await page.textContent("#connection-text")).toBe("connected");
        await waitFor("the presence count", async () => (await page.textContent("#people")) === "2", 10_000);
        const [expected, head, otherName] = await Promise.all([
          demoHook(other, (hook) => hook.where()),
          demoHook(other, (hook) => hook.head()),
          other.textContent("#people-list li[data-author=you]"),
        ]);
        await waitFor(
          `the other's caret at ${expected}`,
          async () =>
            (await page.$$eval("#people-list li:not([data-author=you]) .where", (spans) => spans.map((s) => s.textContent))).includes(
              expected,
            ),
          10_000,
        );
        const name = (otherName ?? "").split(" (you)")[0]?.trim() ?? "";
        const caret = page.locator(".doc-editor:not([hidden]) .cm-ot-caret", { hasText: name });
        await waitFor(
          `${name}'s caret drawn at ${expected}`,
          async () => {
            if ((await caret.count()) !== 1) return false;
            const [box, coords] = await Promise.all([
              caret.boundingBox(),
              page.evaluate<{ left: number; top: number } | null>(`window.openOtDemo.coordsAt(${head})`),
            ]);
            return box !== null && coords !== null && Math.abs(box.x - coords.left) < 3 && Math.abs(box.y - coords.top) < 4;
          },
          10_000,
        );
        expect(await caret.locator(".cm-ot-caret-label").textContent()).toBe(name);
      }
      await alice.screenshot({ path: SCREENSHOT });
    }, 60_000);

    it("two people on two instances edit the to-do page's JSON list at once and end with Redis's list", async () => {
      await twoPeopleEditTheTodoList(browser, one.url, two.url, redis.url);
    }, 60_000);
  },
);
