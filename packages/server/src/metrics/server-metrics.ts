/**
 * What a server process reports about its work, for monitoring and tracing. Pass one to
 * `Server` (`metrics` option); the `Hub` built on that server and the bindings attached to
 * that hub pick it up. `createPrometheusMetrics()` of @open-ot/metrics is one; `combineMetrics`
 * feeds several.
 *
 * Every method is optional, is called synchronously on the server's hot paths, and must be
 * cheap. A method that throws is reported to no one and changes nothing: the server carries on
 * as if it had returned.
 */
export interface ServerMetrics {
  /** A connection opened on `transport` ("websocket", "sse", "in-process", or a binding's own name). */
  connectionOpened?(transport: string): void;
  /** A connection counted by {@link connectionOpened} ended. */
  connectionClosed?(transport: string): void;
  /** A join was accepted: its `snapshot` or `joined` went to the connection. */
  joined?(docId: string): void;
  /**
   * A request was refused with `code`: `"message"` for an `error` message sent on a connection,
   * `"request"` for an HTTP or upgrade request a binding refused before it reached the hub.
   */
  refused?(code: string, where: "message" | "request"): void;
  /**
   * An op was committed at `revision` by this process; `startedAt` is when the commit was sent
   * to the store (`performance.now()`), where its ack latency starts.
   */
  committed?(docId: string, revision: number, startedAt: number): void;
  /**
   * The commit at `revision` went to a connection of this process: as `ack` to its submitter,
   * as `op` to everyone else. Ack latency runs from the commit's `startedAt` to its `ack`. The
   * delivery may be reported before the commit (the store's notice can come back before its
   * reply to the commit).
   */
  delivered?(docId: string, revision: number, kind: "ack" | "op"): void;
  /** A commit lost the race to another writer and is tried again, transformed over what won. */
  commitRetried?(docId: string): void;
  /** `size` ops were sent to the store in one commit call (1 for a single commit). */
  groupCommitted?(size: number): void;
  /** A document's sequencer read `ops` missing ops from history (a lost or late notice, a resubscribe). */
  gapRepaired?(docId: string, ops: number): void;
  /**
   * A call to the store finished after `durationMs`; `failed` when it threw something other
   * than an answer about a document (not found, exists already, history trimmed).
   */
  backendCall?(method: string, durationMs: number, failed: boolean): void;
  /**
   * A submit starts (`Server.submitOperation` through the hub); the function returned, if any,
   * is called once when it settles, with the revision it was committed at or the error it
   * failed with. For tracing spans around commits.
   */
  startCommit?(docId: string): ((outcome: CommitOutcome) => void) | undefined;
  /**
   * Register a reader of the bytes written to `transport`'s connections and not yet sent (socket
   * and response buffers). Read when metrics are collected; returns a function that unregisters it.
   */
  watchQueuedBytes?(transport: string, read: () => number): () => void;
  /**
   * Register a reader of the presence entries this process holds (the connections that show as
   * present in some document). Read when metrics are collected; returns a function that
   * unregisters it.
   */
  watchPresenceEntries?(read: () => number): () => void;
}

/** How a submit observed by {@link ServerMetrics.startCommit} ended. */
export type CommitOutcome =
  | { readonly kind: "committed"; readonly revision: number }
  | { readonly kind: "duplicate" }
  | { readonly kind: "failed"; readonly error: unknown };

const METHODS = [
  "connectionOpened",
  "connectionClosed",
  "joined",
  "refused",
  "committed",
  "delivered",
  "commitRetried",
  "groupCommitted",
  "gapRepaired",
  "backendCall",
] as const;

type ReportMethod = (typeof METHODS)[number];

/**
 * One sink that reports to each of `sinks` in turn (Prometheus and tracing together, say). A
 * sink that throws does not keep the others from hearing of it.
 */
export function combineMetrics(...sinks: readonly ServerMetrics[]): ServerMetrics {
  const combined: ServerMetrics = {};
  const target = combined as Record<ReportMethod, (...args: unknown[]) => void>;
  for (const method of METHODS) {
    const listeners = sinks.filter((sink) => typeof sink[method] === "function");
    if (listeners.length === 0) continue;
    target[method] = (...args: unknown[]) => {
      for (const sink of listeners) tryReport(() => (sink[method] as (...a: unknown[]) => void).apply(sink, args));
    };
  }
  const starters = sinks.filter((sink) => typeof sink.startCommit === "function");
  if (starters.length > 0) {
    combined.startCommit = (docId) => {
      const ends = starters.map((sink) => tryReport(() => sink.startCommit?.(docId)));
      return (outcome) => {
        for (const end of ends) if (end !== undefined) tryReport(() => end(outcome));
      };
    };
  }
  for (const method of ["watchQueuedBytes", "watchPresenceEntries"] as const) {
    const watchers = sinks.filter((sink) => typeof sink[method] === "function");
    if (watchers.length === 0) continue;
    (combined as Record<typeof method, (...args: never[]) => () => void>)[method] = (...args: never[]) => {
      const stops = watchers.map((sink) => tryReport(() => (sink[method] as (...a: never[]) => () => void).apply(sink, args)));
      return () => {
        for (const stop of stops) if (stop !== undefined) tryReport(stop);
      };
    };
  }
  return combined;
}

/**
 * Run one report to a sink; what it throws is dropped (see {@link ServerMetrics}), so that
 * monitoring can never fail a commit or a delivery.
 */
export function tryReport<T>(report: () => T): T | undefined {
  try {
    return report();
  } catch {
    return undefined;
  }
}
