// Minified and gzipped sizes of what an app ships for the React binding, React itself excluded:
// node scripts/bundle-size.mjs (from packages/react; bundles the workspace sources).
import { build } from "esbuild";
import { printBundleSizes, workspaceSources } from "../../../scripts/bundle-size.mjs";

const hooks = `export { OTConnectionProvider, useDocument, usePresence, useSyncStatus } from "@open-ot/react";`;
const client = `export { OTConnection } from "@open-ot/client";`;
const transports = `export { WebSocketTransport } from "@open-ot/transport-websocket"; export { ReconnectingTransport } from "@open-ot/transport-reconnecting";`;
const external = ["react", "react-dom", "ws"];

await printBundleSizes(build, [
  { name: "@open-ot/client alone (OTConnection)", contents: client, alias: workspaceSources, external },
  { name: "@open-ot/react + @open-ot/client (OTConnection)", contents: hooks + client, alias: workspaceSources, external },
  { name: "... + WebSocketTransport + ReconnectingTransport", contents: hooks + client + transports, alias: workspaceSources, external },
  {
    name: "... + JsonType (@open-ot/json, ot-json1)",
    contents: hooks + client + transports + `export { JsonType } from "@open-ot/json";`,
    alias: workspaceSources,
    external,
  },
  {
    name: "@open-ot/react alone (client and core external)",
    contents: hooks,
    alias: { "@open-ot/react": workspaceSources["@open-ot/react"] },
    external: [...external, "@open-ot/client", "@open-ot/core"],
  },
]);
