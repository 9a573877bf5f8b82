// Minified and gzipped sizes of what an app ships for JSON documents:
// node scripts/bundle-size.mjs (from packages/json; builds from the workspace sources).
import { build } from "esbuild";
import { printBundleSizes, workspaceSources } from "../../../scripts/bundle-size.mjs";

const json = `export { JsonType } from "@open-ot/json";`;
const client = `export { OTClient } from "@open-ot/client";`;
const transports = `export { WebSocketTransport } from "@open-ot/transport-websocket"; export { ReconnectingTransport } from "@open-ot/transport-reconnecting";`;
const external = ["ws"];

await printBundleSizes(build, [
  { name: "@open-ot/json (JsonType, ot-json1, ot-text-unicode)", contents: json, alias: workspaceSources, external },
  { name: "@open-ot/client alone (OTClient)", contents: client, alias: workspaceSources, external },
  { name: "@open-ot/json + @open-ot/client", contents: json + client, alias: workspaceSources, external },
  { name: "... + WebSocketTransport + ReconnectingTransport", contents: json + client + transports, alias: workspaceSources, external },
]);
