/**
 * One simulated editor of a load run. Every system under test (OpenOT, ShareDB, the raw relay)
 * has its implementation; the driver only uses this interface.
 *
 * Each client keeps exactly one op in flight: it submits, waits for the ack, and submits the
 * next, as a real OT client does when the user types faster than the round trip.
 */
export interface LoadClient {
  /** The document this client edits. */
  readonly docId: string;
  /** Open the connection and join the document; resolves once the initial document is in. */
  connect(): Promise<void>;
  /** Start the submit loop (one op in flight at a time). */
  start(): void;
  /** Stop submitting; resolves when the op in flight (if any) has been acknowledged. */
  stop(): Promise<void>;
  /** The latest revision (version) this client has seen. */
  readonly revision: number;
  /** The client's current text, for the convergence check. `undefined` for clients that keep no document (the relay). */
  text(): string | undefined;
  /** Resolves once the client has seen revision `revision` (or immediately for clients without revisions). */
  waitForRevision(revision: number): Promise<void>;
  /** Close the connection. */
  close(): Promise<void>;
}

/**
 * Which OpenOT client the load is made with: `raw` speaks the wire protocol itself (the
 * leanest, to measure the server); `otclient` is the product's `OTClient`, `connection` a
 * document of the product's `OTConnection` (what applications use).
 */
export type LoadClientKind = "raw" | "otclient" | "connection";

/** Where a load client connects and what it edits. */
export interface LoadClientSpec {
  /** Index of the client in the run (for seeds and ids). */
  readonly index: number;
  /** Server base URL, `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /** Index of the server instance the client is on (for same- vs cross-instance broadcast latency). */
  readonly instance: number;
  /** Document id. */
  readonly docId: string;
  /**
   * `connection` load client only: clients of one driver with the same group share one
   * `OTConnection` (one socket, many documents). @default a connection each
   */
  readonly connectionGroup?: number;
}
