// Reading and driving the demo's editor page (CodeMirror editors in a document sidebar) from a
// Playwright test, through the page's `window.openOtDemo` hook (src/browser/editor-page.ts).
import type { Page } from "playwright-core";
import type { DemoPageHook } from "../../src/browser/editor-page.js";

/** The editable content of the document shown (click it to type there). */
export const EDITOR_INPUT = "#editor .doc-editor:not([hidden]) .cm-content";

/** The editor page ready for typing: the document shown is joined and editable. */
export const EDITOR_READY = "#editor:not([readonly]) .doc-editor:not([hidden]) .cm-content[contenteditable=true]";

/** Call the page's hook: `fn` runs in the page with the hook as its argument. */
export function demoHook<T>(page: Page, fn: (hook: DemoPageHook) => T): Promise<T> {
  return page.evaluate<T>(`(${fn.toString()})(window.openOtDemo)`);
}

/** The text of the document shown (or of `docId`). */
export function editorText(page: Page, docId?: string): Promise<string> {
  return page.evaluate<string>(`window.openOtDemo.text(${docId === undefined ? "" : JSON.stringify(docId)})`);
}
