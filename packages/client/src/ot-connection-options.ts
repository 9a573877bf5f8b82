import type { Logger, TransportAdapter } from "@open-ot/core";
import type { OTClientOptions } from "./ot-client-options.js";
import type { RetryOptions } from "./retry-delay.js";

/** Options of {@link OTConnection}. */
export interface OTConnectionOptions {
  /**
   * The one connection every document goes over. The connection object owns it: it calls
   * `connect` itself, once for all documents. A `HandshakeCapable` transport (the reconnecting
   * wrapper) gets a handshake that rejoins every open document after every reconnection.
   */
  transport: TransportAdapter;
  /**
   * The identity of every document's client (one `seq` sequence across them);
   * 1 to 64 characters from `[A-Za-z0-9_-]`. Reuse one only together with its `lastSeq`.
   * @default a fresh `randomClientId()` from @open-ot/core
   */
  clientId?: string;
  /**
   * The last `seq` this `clientId` used, when resuming a persisted identity.
   * @default 0
   */
  lastSeq?: number;
  /**
   * Send `"batch": true` in every join (the server may then send JSON arrays of messages); a
   * document's own `batch` option wins.
   * @default false
   */
  batch?: boolean;
  /**
   * Retry spacing of every document (a document's own `retry` option wins).
   * @default { initialDelay: 500, maxDelay: 15000 }
   */
  retry?: RetryOptions;
  /**
   * Where the connection and every document report what they do (a document's own `logger`
   * option wins).
   * @default no logging
   */
  logger?: Logger;
}

/**
 * Options of {@link OTConnection.open}: those of an `OTClient`, less what the connection holds
 * (the transport, the document id, the client's identity).
 */
export type OpenDocumentOptions<Snapshot, Op> = Omit<
  OTClientOptions<Snapshot, Op>,
  "transport" | "docId" | "clientId" | "lastSeq" | "seqCounter"
>;
