// Builds the demo with esbuild, from the TypeScript sources of the demo and of every workspace
// package: the server (src/main.ts -> dist/main.js, src/scale.ts -> dist/scale.js) and the
// editor page (src/browser/editor-page.ts -> dist/public/editor.js, plus index.html and
// editor.css), and the to-do page (src/browser/todo-page.ts -> dist/public/todo.js, plus
// todo.html). No package has to be built first, which is what keeps `pnpm demo` fast on a fresh
// clone; type checking is `pnpm typecheck`'s job. The tests import `buildDemoServer` and
// `buildEditorPage` to bundle into a folder of their own.
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

/** Bundle the editor page and the to-do page into `outdir` (default dist/public). */
export async function buildEditorPage(outdir = join(appDir, "dist", "public")) {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: {
      editor: join(appDir, "src", "browser", "editor-page.ts"),
      todo: join(appDir, "src", "browser", "todo-page.ts"),
    },
    outdir,
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
  for (const file of ["index.html", "editor.css", "todo.html"]) {
    await copyFile(join(appDir, "src", "public", file), join(outdir, file));
  }
  return outdir;
}

/**
 * esbuild options for a Node 20 ES-module bundle of TypeScript sources with every dependency:
 * what `buildDemoServer` uses, and what the tests use to run README examples. `extra` is
 * merged over them (entry points, output, plugins).
 */
export async function nodeBundleOptions(extra) {
  return {
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
    logLevel: "warning",
    ...extra,
  };
}

/**
 * Bundle the demo's Node entry points (`main`, and `scale` unless left out) into `outdir`
 * (default dist), each with every dependency, as ES modules for Node 20.
 */
export async function buildDemoServer(outdir = join(appDir, "dist"), entries = ["main", "scale"]) {
  await build(await nodeBundleOptions({ entryPoints: entries.map((name) => join(appDir, "src", `${name}.ts`)), outdir, sourcemap: true }));
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [outdir, page] = await Promise.all([buildDemoServer(), buildEditorPage()]);
  console.log(`demo server bundled into ${outdir}, editor page into ${page}`);
}
