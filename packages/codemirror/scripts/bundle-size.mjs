// Minified and gzipped sizes of what an app ships for the binding, CodeMirror itself excluded:
// node scripts/bundle-size.mjs (from packages/codemirror; builds from the workspace sources).
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const packagesDir = fileURLToPath(new URL("../../", import.meta.url));
const alias = Object.fromEntries(readdirSync(packagesDir).map((name) => [`@open-ot/${name}`, `${packagesDir}${name}/src/index.ts`]));

const entries = {
  "@open-ot/codemirror + @open-ot/client": `export { otCollab } from "@open-ot/codemirror"; export { OTClient } from "@open-ot/client"; export { TextType } from "@open-ot/core";`,
  "... + WebSocketTransport + ReconnectingTransport": `export { otCollab } from "@open-ot/codemirror"; export { OTClient } from "@open-ot/client"; export { TextType } from "@open-ot/core"; export { WebSocketTransport } from "@open-ot/transport-websocket"; export { ReconnectingTransport } from "@open-ot/transport-reconnecting";`,
  "@open-ot/codemirror alone (client and core external)": `export { otCollab } from "@open-ot/codemirror";`,
};

for (const [name, contents] of Object.entries(entries)) {
  const alone = name.includes("alone");
  const result = await build({
    stdin: { contents, resolveDir: packagesDir, loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "error",
    alias: alone ? { "@open-ot/codemirror": alias["@open-ot/codemirror"] } : alias,
    external: ["@codemirror/*", "ws", ...(alone ? ["@open-ot/*"] : [])],
  });
  const code = result.outputFiles[0].contents;
  const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
  console.log(`${name}: ${kb(code.length)} minified, ${kb(gzipSync(code, { level: 9 }).length)} gzipped`);
}
