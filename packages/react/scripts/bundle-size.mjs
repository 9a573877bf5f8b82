// Minified and gzipped sizes of what an app ships for the React binding, React itself excluded:
// node scripts/bundle-size.mjs (from packages/react; bundles the workspace sources).
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const packagesDir = fileURLToPath(new URL("../../", import.meta.url));
const sources = Object.fromEntries(readdirSync(packagesDir).map((name) => [`@open-ot/${name}`, `${packagesDir}${name}/src/index.ts`]));
const hooks = `export { OTConnectionProvider, useDocument, useSyncStatus } from "@open-ot/react";`;
const client = `export { OTConnection } from "@open-ot/client";`;
const transports = `export { WebSocketTransport } from "@open-ot/transport-websocket"; export { ReconnectingTransport } from "@open-ot/transport-reconnecting";`;

const bundles = [
  ["@open-ot/react + @open-ot/client (OTConnection)", hooks + client, sources],
  ["... + WebSocketTransport + ReconnectingTransport", hooks + client + transports, sources],
  ["... + JsonType (@open-ot/json, ot-json1)", hooks + client + transports + `export { JsonType } from "@open-ot/json";`, sources],
  ["@open-ot/react alone (client and core external)", hooks, { "@open-ot/react": sources["@open-ot/react"] }],
];

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
for (const [name, contents, alias] of bundles) {
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
    external: ["react", "react-dom", "ws", ...(alias === sources ? [] : ["@open-ot/client", "@open-ot/core"])],
  });
  const code = outputFiles[0].contents;
  console.log(`${name}: ${kB(code.length)} minified, ${kB(gzipSync(code, { level: 9 }).length)} gzipped`);
}
