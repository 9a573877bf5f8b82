/**
 * ShareDB and ot-text-unicode, loaded through `require` (both are CommonJS; ShareDB ships no
 * type declarations), with the few shapes this bench uses written out. Only the reference
 * implementation of the comparison uses these.
 */
import { createRequire } from "node:module";
import type { Duplex } from "node:stream";
import type otTextUnicode from "ot-text-unicode";

const require = createRequire(import.meta.url);

/** An ot-text-unicode op: skip (number), insert (string), delete (`{d}`). */
export type UnicodeTextOp = (number | string | { d: number | string })[];

/** The text type ShareDB documents use in this comparison. */
export const textUnicode: typeof otTextUnicode.type = (require("ot-text-unicode") as typeof otTextUnicode).type;

/** A ShareDB client document (the members the bench uses). */
export interface ShareDbDoc {
  readonly version: number | null;
  readonly data: unknown;
  readonly type: unknown;
  subscribe(callback: (error?: Error) => void): void;
  fetch(callback: (error?: Error) => void): void;
  create(data: unknown, type: string, callback: (error?: Error) => void): void;
  submitOp(op: UnicodeTextOp, options: { source?: unknown } | null, callback: (error?: Error) => void): void;
  on(event: "op", listener: (op: UnicodeTextOp, source: unknown) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
}

/** A ShareDB client connection. */
export interface ShareDbConnection {
  get(collection: string, id: string): ShareDbDoc;
  close(): void;
}

/** The ShareDB backend (server side). */
export interface ShareDbBackend {
  connect(): ShareDbConnection;
  listen(stream: Duplex): unknown;
  close(callback?: (error?: Error) => void): void;
}

interface ShareDbModule {
  new (options?: Record<string, unknown>): ShareDbBackend;
  types: { register(type: unknown): void };
}

interface ShareDbClientModule {
  Connection: new (socket: unknown) => ShareDbConnection;
  types: { register(type: unknown): void };
}

let registered = false;

/** The ShareDB server module, with ot-text-unicode registered. */
export function loadShareDb(): ShareDbModule {
  const ShareDB = require("sharedb") as ShareDbModule;
  if (!registered) {
    ShareDB.types.register(textUnicode);
    registered = true;
  }
  return ShareDB;
}

/** The ShareDB client module, with ot-text-unicode registered. */
export function loadShareDbClient(): ShareDbClientModule {
  const client = require("sharedb/lib/client") as ShareDbClientModule;
  client.types.register(textUnicode);
  return client;
}
