import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { parseRequestTarget } from "@open-ot/server";

/** The files of the editor page, as the build writes them to dist/public. */
const FILES: Readonly<Record<string, string>> = {
  "/index.html": "text/html; charset=utf-8",
  "/editor.js": "text/javascript; charset=utf-8",
  "/editor.js.map": "application/json; charset=utf-8",
  "/editor.css": "text/css; charset=utf-8",
  "/todo.html": "text/html; charset=utf-8",
  "/todo.js": "text/javascript; charset=utf-8",
  "/todo.js.map": "application/json; charset=utf-8",
};

/** Replaced in index.html by the server's default document, so `--doc` reaches the page. */
const DEFAULT_DOC_PLACEHOLDER = "{{DEFAULT_DOC}}";

/** Serves the editor page; see {@link loadStaticSite}. */
export interface StaticSite {
  /** False when the page's files were not found (the build did not run); requests then get 503 and a hint. */
  readonly built: boolean;
  /** Answer GET/HEAD for `/` and the page's files; returns false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Read the editor page from `publicDir` once, at start. The page is small and the demo serves
 * it unchanged, so holding it in memory spares a disk read per request and keeps requests from
 * ever reaching outside that folder (only the listed files are served).
 *
 * @param publicDir the folder with index.html, editor.js, editor.css (the build's dist/public)
 * @param defaultDoc the document the page opens without `?doc=`
 */
export async function loadStaticSite(publicDir: string, defaultDoc: string): Promise<StaticSite> {
  const bodies = new Map<string, Buffer>();
  for (const path of Object.keys(FILES)) {
    try {
      let body = await readFile(join(publicDir, path));
      if (path === "/index.html") body = Buffer.from(body.toString("utf8").replaceAll(DEFAULT_DOC_PLACEHOLDER, escapeHtml(defaultDoc)));
      bodies.set(path, body);
    } catch (error) {
      // The source maps are optional, and so is the to-do page (a build of the editor alone); the editor page is not.
      if (!path.endsWith(".map") && !path.startsWith("/todo.")) {
        const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
        if (!missing) throw error;
      }
    }
  }
  const built = bodies.has("/index.html") && bodies.has("/editor.js");

  return {
    built,
    handle(req, res) {
      const path = parseRequestTarget(req.url)?.pathname;
      if (path === undefined) return false;
      const file = path === "/" ? "/index.html" : path;
      const type = FILES[file];
      if (type === undefined) return false;
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("Use GET.\n");
        return true;
      }
      if (!built) {
        res
          .writeHead(503, { "Content-Type": "text/plain; charset=utf-8" })
          .end(`The editor page was not found in ${publicDir}: build the demo first (pnpm demo does), or pass --public-dir.\n`);
        return true;
      }
      const body = bodies.get(file);
      if (body === undefined) return false;
      // no-cache, not no-store: the browser revalidates, so a rebuilt page is seen on reload.
      res.writeHead(200, { "Content-Type": type, "Content-Length": body.length, "Cache-Control": "no-cache" });
      res.end(req.method === "HEAD" ? undefined : body);
      return true;
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
