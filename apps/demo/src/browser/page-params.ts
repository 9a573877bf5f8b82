import { isValidDocId } from "@open-ot/core";

/** Which wire the editor uses: WebSocket (`/ws`) or Server-Sent Events (`/events` + `/messages`). */
export type TransportKind = "ws" | "sse";

/** What the editor page's URL asks for. */
export interface PageParams {
  /** `?doc=`; the server's default document when absent. */
  readonly docId: string;
  /** `?transport=ws|sse`. @default "ws" */
  readonly transport: TransportKind;
  /**
   * `?servers=url1,url2`: base URLs of the instances to use, in order (the page's own origin
   * when absent). The client moves to the next one when its connection fails.
   */
  readonly servers: readonly string[];
}

/** Thrown for a page URL the editor cannot use; the message is shown on the page. */
export class PageParamsError extends Error {
  override readonly name = "PageParamsError";
}

/**
 * Read the editor's settings from the page URL.
 *
 * @param href the page's URL (`location.href`)
 * @param defaultDocId the document to open without `?doc=` (the server's default)
 */
export function parsePageParams(href: string, defaultDocId: string): PageParams {
  const url = new URL(href);
  const doc = url.searchParams.get("doc");
  if (doc !== null && !isValidDocId(doc)) {
    throw new PageParamsError(
      `?doc=${url.searchParams.get("doc") ?? ""} is not a document id: use 1 to 256 characters from A-Z a-z 0-9 . _ ~ : -`,
    );
  }
  const transport = url.searchParams.get("transport") ?? "ws";
  if (transport !== "ws" && transport !== "sse") {
    throw new PageParamsError(`?transport=${transport} is not known: use ?transport=ws or ?transport=sse.`);
  }
  const list = url.searchParams.get("servers");
  const servers =
    list === null
      ? [url.origin]
      : list
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "")
          .map(baseUrl);
  if (servers.length === 0)
    throw new PageParamsError("?servers= is empty: give base URLs such as http://localhost:3001,http://localhost:3002.");
  return { docId: doc ?? defaultDocId, transport, servers };
}

/** `http://host:port[/prefix]` without a trailing slash, or a PageParamsError. */
function baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PageParamsError(`?servers: "${text}" is not a URL; give base URLs such as http://localhost:3001.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PageParamsError(`?servers: "${text}" must start with http:// or https:// (the page picks ws:// itself).`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}
