// Minified and gzipped sizes of what an app ships for the binding, CodeMirror itself excluded:
// node scripts/bundle-size.mjs (from packages/codemirror; builds from the workspace sources).
import { build } from "esbuild";
import { printBundleSizes, workspaceSources } from "../../../scripts/bundle-size.mjs";

const binding = `export { otCollab } from "@open-ot/codemirror";`;
const client = `export { OTClient } from "@open-ot/client"; export { TextType } from "@open-ot/core";`;
const transports = `export { WebSocketTransport } from "@open-ot/transport-websocket"; export { ReconnectingTransport } from "@open-ot/transport-reconnecting";`;
const external = ["@codemirror/*", "ws"];

await printBundleSizes(build, [
  { name: "@open-ot/codemirror + @open-ot/client", contents: binding + client, alias: workspaceSources, external },
  { name: "... + WebSocketTransport + ReconnectingTransport", contents: binding + client + transports, alias: workspaceSources, external },
  {
    name: "@open-ot/codemirror alone (client and core external)",
    contents: binding,
    alias: { "@open-ot/codemirror": workspaceSources["@open-ot/codemirror"] },
    external: [...external, "@open-ot/*"],
  },
]);
