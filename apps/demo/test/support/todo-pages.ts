// The to-do page (React hooks over JsonType) driven in Chromium by two people at once; run by
// test/browser.test.ts on its two instances.
import { RedisAdapter } from "@open-ot/adapter-redis";
import { waitUntil } from "@open-ot/harness";
import { JsonType } from "@open-ot/json";
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

interface Todo {
  readonly text: string;
  readonly done: boolean;
}

/** What a page shows: each item's text, with " [x]" when ticked, in order. */
function shown(page: Page): Promise<string[]> {
  return page.$$eval("#todo li", (items) =>
    items.map(
      (li) => `${li.querySelector(".text")?.textContent ?? ""}${(li.querySelector("input") as HTMLInputElement).checked ? " [x]" : ""}`,
    ),
  );
}

async function openList(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  // A context per page: two people, not two tabs of one.
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  await page.waitForSelector('#connection[data-state="live"]', { timeout: 15_000 });
  return { page, errors };
}

async function add(page: Page, texts: readonly string[]): Promise<void> {
  for (const text of texts) {
    await page.fill('#todo input[name="text"]', text);
    await page.press('#todo input[name="text"]', "Enter");
  }
}

/**
 * Alice on `urlA` (WebSocket) and Bob on `urlB` (SSE) add three items each at the same time,
 * then tick and remove items at the same time; both pages must end saved, showing the list Redis
 * holds.
 */
export async function twoPeopleEditTheTodoList(browser: Browser, urlA: string, urlB: string, redisUrl: string): Promise<void> {
  const alice = await openList(browser, `${urlA}/todo.html`);
  const bob = await openList(browser, `${urlB}/todo.html?transport=sse`);

  await Promise.all([add(alice.page, ["milk", "eggs", "bread"]), add(bob.page, ["tea", "rice", "soap"])]);
  await waitUntil(
    async () => (await shown(alice.page)).length === 6 && (await shown(bob.page)).length === 6,
    "both pages to show the 6 items",
    15_000,
    100,
  );
  expect([...(await shown(alice.page))].sort()).toEqual(["bread", "eggs", "milk", "rice", "soap", "tea"]);

  // At once, on items the other does not touch (a click waits for its item, so one removed by
  // the other would stall it): each removal shifts the indexes of the other's tick.
  // Alice ticks "tea" and removes "milk"; Bob removes "bread" and ticks "eggs".
  const item = (page: Page, text: string) => page.locator("#todo li", { hasText: text });
  await Promise.all([
    (async () => {
      await item(alice.page, "tea").locator("input").click();
      await item(alice.page, "milk").locator(".remove").click();
    })(),
    (async () => {
      await item(bob.page, "bread").locator(".remove").click();
      await item(bob.page, "eggs").locator("input").click();
    })(),
  ]);

  const store = new RedisAdapter(redisUrl, { types: [JsonType] });
  try {
    let stored: string[] = [];
    await waitUntil(
      async () => {
        const record = await store.getRecord("todo");
        stored = (record.data as { items: Todo[] }).items.map((todo) => `${todo.text}${todo.done ? " [x]" : ""}`);
        const [a, b, aSynced, bSynced] = await Promise.all([
          shown(alice.page),
          shown(bob.page),
          alice.page.getAttribute("#connection", "data-synced"),
          bob.page.getAttribute("#connection", "data-synced"),
        ]);
        return (
          aSynced === "true" &&
          bSynced === "true" &&
          JSON.stringify(a) === JSON.stringify(stored) &&
          JSON.stringify(b) === JSON.stringify(stored)
        );
      },
      "both to-do pages saved, showing the list Redis holds",
      15_000,
      100,
    );
    expect([...stored].sort()).toEqual(["eggs [x]", "rice", "soap", "tea [x]"]);
  } finally {
    await store.close();
  }
  expect(alice.errors).toEqual([]);
  expect(bob.errors).toEqual([]);
  await Promise.all([alice.page.context().close(), bob.page.context().close()]);
}
