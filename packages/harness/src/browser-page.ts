import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** Options of {@link bundleBrowserPage}. */
export interface BrowserPageBundleOptions {
  /** The page's entry module (a file URL or path). */
  readonly entry: string | URL;
  /** Workspace packages the page imports, by directory name (`"client"` for `@open-ot/client`): bundled from their sources. */
  readonly packages: readonly string[];
  /** esbuild `define`, such as `{ "process.env.NODE_ENV": '"production"' }`. @default {} */
  readonly define?: Readonly<Record<string, string>>;
}

const packagesDir = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Bundle a test page for the browser as one ES module, with the named `@open-ot/*` packages
 * taken from their TypeScript sources (so a page test needs no build of them first).
 */
export async function bundleBrowserPage(options: BrowserPageBundleOptions): Promise<string> {
  const alias: Record<string, string> = {};
  for (const name of options.packages) alias[`@open-ot/${name}`] = `${packagesDir}${name}/src/index.ts`;
  const result = await build({
    entryPoints: [options.entry instanceof URL ? fileURLToPath(options.entry) : options.entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    alias,
    external: ["ws"],
    define: { ...options.define },
    logLevel: "warning",
  });
  return result.outputFiles[0]!.text;
}

/** A running {@link startPageServer}. */
export interface PageServer {
  /** The node:http server, to attach a binding to (its `upgrade` and other requests are the binding's). */
  readonly http: Server;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Drop every connection and stop listening. Close what is attached to {@link http} first. */
  close(): Promise<void>;
}

/**
 * Serve one test page on a free port of 127.0.0.1: `GET /` answers `html`, `GET /page.js` the
 * `script` (see {@link bundleBrowserPage}), anything else 404.
 */
export async function startPageServer(page: { readonly html: string; readonly script: string }): Promise<PageServer> {
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/") res.writeHead(200, { "content-type": "text/html" }).end(page.html);
    else if (path === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(page.script);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    http,
    origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
