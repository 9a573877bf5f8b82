// Minified and gzipped sizes of browser bundles built from the workspace sources, for the
// package READMEs. Each package's scripts/bundle-size.mjs names its bundles and passes its own
// esbuild (the root has none).
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const packagesDir = fileURLToPath(new URL("../packages/", import.meta.url));

/** Every `@open-ot/<name>` mapped to its `src/index.ts`. */
export const workspaceSources = Object.fromEntries(
  readdirSync(packagesDir).map((name) => [`@open-ot/${name}`, `${packagesDir}${name}/src/index.ts`]),
);

/**
 * Print one line per bundle: `name: N kB minified, M kB gzipped`.
 * @param build esbuild's `build`.
 * @param bundles `{ name, contents, alias, external }`: the entry's source, the packages bundled from source, what stays out.
 */
export async function printBundleSizes(build, bundles) {
  const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
  for (const { name, contents, alias, external } of bundles) {
    const { outputFiles } = await build({
      stdin: { contents, resolveDir: packagesDir, loader: "ts" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "error",
      alias,
      external,
    });
    const code = outputFiles[0].contents;
    console.log(`${name}: ${kB(code.length)} minified, ${kB(gzipSync(code, { level: 9 }).length)} gzipped`);
  }
}
