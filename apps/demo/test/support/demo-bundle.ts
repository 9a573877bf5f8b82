import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildEditorPage, sourceAliases } from "../../build.mjs";

/** The demo built from the sources beside the tests, in a temporary folder. */
export interface DemoBundle {
  /** The server (src/main.ts bundled with every dependency) to run with `node`. */
  readonly mainJs: string;
  /** The editor page (index.html, editor.js, editor.css), for `--public-dir`. */
  readonly publicDir: string;
  /** Remove the folder. */
  cleanup(): Promise<void>;
}

const appDir = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Bundle the demo server and its page from the TypeScript sources (the packages' too) with
 * esbuild, so that tests that run it as a child process test the code beside them, not a
 * dist/ that may be stale, and need no build step first. Takes about a second.
 */
export async function bundleDemo(): Promise<DemoBundle> {
  const dir = await mkdtemp(join(tmpdir(), "open-ot-demo-test-"));
  const mainJs = join(dir, "main.js");
  await build({
    entryPoints: [join(appDir, "src", "main.ts")],
    outfile: mainJs,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    alias: await sourceAliases(),
    // ws loads these native add-ons only if they are installed; they are not.
    external: ["bufferutil", "utf-8-validate"],
    // Bundled CommonJS dependencies (ws, ioredis) call require() for Node's built-ins, which an
    // ES module does not have.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    sourcemap: "inline",
    logLevel: "warning",
  });
  const publicDir = await buildEditorPage(join(dir, "public"));
  return { mainJs, publicDir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
