/** The path and query of an HTTP request target in origin form (`/path?query`). */
export interface RequestTarget {
  /** The path exactly as sent (percent-escapes kept): `//ws` stays `//ws`, never `/`. */
  readonly pathname: string;
  readonly query: URLSearchParams;
}

/**
 * Read a request target (`req.url` of node:http) without ever throwing. Only the origin form a
 * client sends to a server is accepted: a path starting with one `/`, optionally followed by a
 * query. Anything else (`//host`, `http://...`, `*`, a backslash, a control character) is
 * `undefined`, which a binding answers with 400 or leaves to the application.
 *
 * `new URL(target, base)` is not used: it throws on `//` and reads `//ws` as the host `ws` with
 * the path `/`.
 */
export function parseRequestTarget(target: string | undefined): RequestTarget | undefined {
  if (target === undefined || target.length === 0 || target.charCodeAt(0) !== 0x2f /* / */) return undefined;
  const hash = target.indexOf("#");
  const withoutFragment = hash < 0 ? target : target.slice(0, hash);
  const mark = withoutFragment.indexOf("?");
  const pathname = mark < 0 ? withoutFragment : withoutFragment.slice(0, mark);
  if (!VALID_PATH.test(pathname)) return undefined;
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(mark < 0 ? "" : withoutFragment.slice(mark + 1));
  } catch {
    return undefined;
  }
  return { pathname, query };
}

// RFC 3986 path characters: unreserved, percent-escapes, sub-delims, ":" and "@", and "/".
const VALID_PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
