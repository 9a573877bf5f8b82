import type { IncomingMessage } from "node:http";

/** What {@link readBody} found. */
export type BodyResult =
  | { readonly kind: "ok"; readonly text: string }
  /** Longer than the limit; reading stopped there, the rest is left unread. */
  | { readonly kind: "too_large"; readonly bytes: number }
  /** Not valid UTF-8. */
  | { readonly kind: "bad_utf8" }
  /** The client went away before the body was complete. */
  | { readonly kind: "aborted" }
  /** The body did not arrive whole within the time allowed; reading stopped. */
  | { readonly kind: "timeout"; readonly bytes: number };

/**
 * Read a request body of at most `limit` bytes as UTF-8 text, within `timeoutMs`.
 *
 * A `Content-Length` above the limit is refused before a byte is read; a body without one is
 * read until it passes the limit, then reading stops (the caller answers 413 and closes the
 * connection), so an oversized body never costs more than `limit` bytes of memory. A body still
 * incomplete after `timeoutMs` (dripped a byte at a time) is given up the same way, so it
 * cannot hold its session's queue of POSTs.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: "too_large", bytes: declared });

  // A POST that waited its turn may have been abandoned meanwhile: no 'close' will come again.
  if (req.destroyed) return Promise.resolve({ kind: "aborted" });
  return new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.pause();
      finish({ kind: "timeout", bytes: size });
    }, timeoutMs);
    const finish = (result: BodyResult): void => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish({ kind: "too_large", bytes: size });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      try {
        // fatal: a lone continuation byte or a truncated sequence is refused rather than turned
        // into U+FFFD, which would silently change the text a client meant to insert.
        const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Buffer.concat(chunks, size));
        finish({ kind: "ok", text });
      } catch {
        finish({ kind: "bad_utf8" });
      }
    };
    const onAbort = (): void => {
      if (!req.complete) finish({ kind: "aborted" });
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}
