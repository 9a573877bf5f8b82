import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDemoServer, buildEditorPage } from "../../build.mjs";

/** The demo built from the sources beside the tests, in a temporary folder. */
export interface DemoBundle {
  /** The server (src/main.ts bundled with every dependency) to run with `node`. */
  readonly mainJs: string;
  /** The editor page (index.html, editor.js, editor.css), for `--public-dir`. */
  readonly publicDir: string;
  /** Remove the folder. */
  cleanup(): Promise<void>;
}

/**
 * Bundle the demo server and its page from the TypeScript sources (the packages' too) with
 * esbuild, so that tests that run it as a child process test the code beside them, not a
 * dist/ that may be stale, and need no build step first. Takes about a second.
 */
export async function bundleDemo(): Promise<DemoBundle> {
  const dir = await mkdtemp(join(tmpdir(), "open-ot-demo-test-"));
  await buildDemoServer(dir, ["main"]);
  const mainJs = join(dir, "main.js");
  const publicDir = await buildEditorPage(join(dir, "public"));
  return { mainJs, publicDir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
