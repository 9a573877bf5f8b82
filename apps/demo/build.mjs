// Bundles the editor page for the browser: src/browser/editor-page.ts -> dist/public/editor.js,
// plus index.html and editor.css. Run by `pnpm build` after tsc (`node build.mjs`); the tests
// import `buildEditorPage` to bundle into a folder of their own.
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const appDir = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(appDir, "..", "..", "packages");

/**
 * esbuild aliases mapping every workspace package `@open-ot/<name>` to its TypeScript source.
 * The bundle is thus built from the code beside it, never from a sibling's stale dist/ (the
 * same choice as vitest.shared.ts), and needs no build of the packages first.
 */
export async function sourceAliases() {
  const aliases = {};
  for (const entry of await readdir(packagesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    aliases[`@open-ot/${entry.name}/server`] = join(packagesDir, entry.name, "src", "server.ts");
    aliases[`@open-ot/${entry.name}`] = join(packagesDir, entry.name, "src", "index.ts");
  }
  return aliases;
}

/** Bundle the editor page into `outdir` (default dist/public). */
export async function buildEditorPage(outdir = join(appDir, "dist", "public")) {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [join(appDir, "src", "browser", "editor-page.ts")],
    outfile: join(outdir, "editor.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: true,
    alias: await sourceAliases(),
    // Node-only modules the transports import on demand, never in a browser (which has its own
    // WebSocket and EventSource).
    external: ["ws", "eventsource"],
    logLevel: "warning",
  });
  for (const file of ["index.html", "editor.css"]) {
    await copyFile(join(appDir, "src", "public", file), join(outdir, file));
  }
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = await buildEditorPage();
  console.log(`editor page bundled into ${outdir}`);
}
