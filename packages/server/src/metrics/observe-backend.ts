import type { CommitBatchResult, CommitResult, CommittedOp, IBackendAdapter } from "../backend.js";
import { tryReport, type ServerMetrics } from "./server-metrics.js";

/** The store calls that are timed (every method of {@link IBackendAdapter} but `close`). */
const STORE_CALLS: ReadonlySet<PropertyKey> = new Set([
  "createDocument",
  "getRecord",
  "getHistory",
  "saveOperation",
  "commit",
  "commitBatch",
  "getOps",
  "getOldestKeptRevision",
  "getLastSeq",
  "getClientPrincipal",
  "getRevision",
]);

/** Marks a proxy made here, with the sink it reports to, so a backend is never observed twice by one sink. */
const OBSERVED: unique symbol = Symbol("observed by");

type AnyMethod = (...args: unknown[]) => unknown;

/**
 * `backend` as it is, reporting to `metrics` the duration and failure of every store call,
 * and what commits did: ops committed (with their revisions), group sizes, and lost races
 * (each followed by a retry). Everything else (the pub/sub methods of a backend that is also
 * the pub/sub, `instanceof`, other properties) passes through untouched.
 */
export function observeBackend<B extends IBackendAdapter>(backend: B, metrics: ServerMetrics): B {
  return observe(backend, metrics, (method, call) => {
    if (!STORE_CALLS.has(method)) return call;
    const name = String(method);
    return (...args: unknown[]) => {
      const started = performance.now();
      const settle = (failed: boolean): void => {
        const duration = performance.now() - started;
        tryReport(() => metrics.backendCall?.(name, duration, failed));
      };
      let pending: unknown;
      try {
        pending = call(...args);
      } catch (error) {
        settle(true);
        throw error;
      }
      return Promise.resolve(pending).then(
        (result) => {
          settle(false);
          if (name === "commit") reportCommit(metrics, args[0] as string, result as CommitResult, started);
          else if (name === "commitBatch")
            reportBatch(metrics, args[0] as string, (args[1] as unknown[]).length, result as CommitBatchResult, started);
          return result;
        },
        (error: unknown) => {
          settle(!isAnswer(error));
          throw error;
        },
      );
    };
  });
}

/**
 * `backend` as it is, reporting every op its `getOps` returns as a gap repair: for the
 * backend a hub hands its sequencers, which read history only to fill gaps.
 */
export function observeGapRepairs<B extends IBackendAdapter>(backend: B, metrics: ServerMetrics): B {
  return observe(backend, undefined, (method, call) => {
    if (method !== "getOps") return call;
    return async (...args: unknown[]) => {
      const ops = (await call(...args)) as CommittedOp[];
      if (ops.length > 0) tryReport(() => metrics.gapRepaired?.(args[0] as string, ops.length));
      return ops;
    };
  });
}

function observe<B extends object>(
  backend: B,
  mark: ServerMetrics | undefined,
  wrap: (method: PropertyKey, call: AnyMethod) => AnyMethod,
): B {
  if (mark !== undefined && (backend as { [OBSERVED]?: unknown })[OBSERVED] === mark) return backend;
  const methods = new Map<PropertyKey, { original: unknown; wrapped: AnyMethod }>();
  return new Proxy(backend, {
    get(target, property) {
      if (property === OBSERVED) return mark;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const known = methods.get(property);
      if (known !== undefined && known.original === value) return known.wrapped;
      // Methods run on the backend itself, so its private state is not looked up on the proxy.
      const wrapped = wrap(property, (value as AnyMethod).bind(target));
      methods.set(property, { original: value, wrapped });
      return wrapped;
    },
  });
}

/** Errors that are the store's answer about a document (missing, existing, history trimmed), not a failure of the store. */
const ANSWERS: ReadonlySet<unknown> = new Set(["DocumentNotFoundError", "DocumentExistsError", "HistoryTrimmedError"]);

function isAnswer(error: unknown): boolean {
  return typeof error === "object" && error !== null && ANSWERS.has((error as { name?: unknown }).name);
}

function reportCommit(metrics: ServerMetrics, docId: string, result: CommitResult, startedAt: number): void {
  if (result.status === "committed") {
    tryReport(() => metrics.groupCommitted?.(1));
    tryReport(() => metrics.committed?.(docId, result.revision, startedAt));
  } else if (result.status === "conflict") {
    tryReport(() => metrics.commitRetried?.(docId));
  }
}

function reportBatch(metrics: ServerMetrics, docId: string, size: number, result: CommitBatchResult, startedAt: number): void {
  tryReport(() => metrics.groupCommitted?.(size));
  for (const revision of result.committed) tryReport(() => metrics.committed?.(docId, revision, startedAt));
  // The server retries a batch only when it lost the race on its first op.
  if (result.stop?.status === "conflict" && result.committed.length === 0) tryReport(() => metrics.commitRetried?.(docId));
}
