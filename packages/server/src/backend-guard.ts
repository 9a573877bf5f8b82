import { checkNumberOption, silentLogger, type Logger } from "@open-ot/core";
import {
  BackendUnavailableError,
  DocumentNotFoundError,
  isBackendUnavailable,
  type CommitBatchResult,
  type CommitRequest,
  type CommitResult,
  type CommittedOp,
  type DocumentLineage,
  type DocumentRecord,
  type IBackendAdapter,
  type PubSub,
  type PubSubListener,
  type RestoreRequest,
  type RestoreResult,
} from "./backend.js";

/** Whether the store answers, as a server last found it. */
export interface BackendHealth {
  /** True while the store answers calls in time. */
  readonly reachable: boolean;
  /** When `reachable` last changed (epoch milliseconds). */
  readonly since: number;
  /** Why the store was last found unreachable; `undefined` before it ever was. */
  readonly lastError: string | undefined;
}

/** Options of {@link BackendGuard}. */
export interface BackendGuardOptions {
  /**
   * The deadline of every backend call, in milliseconds: a call that has not settled by then
   * rejects with {@link BackendUnavailableError} (the server answers `unavailable`), and the
   * store counts as unreachable until a probe answers.
   * @default 5000
   */
  timeoutMs?: number;
  /** While the store is unreachable, probe it this often (milliseconds). @default 250 */
  probeIntervalMs?: number;
  /** @default silent */
  logger?: Logger;
}

/** A call awaiting its answer: when it times out, and how to fail it. */
interface InFlight {
  readonly deadline: number;
  readonly expire: () => void;
}

/** A deadline or interval: a positive, finite number of milliseconds. */
const POSITIVE_MS = { min: 0, aboveMin: true } as const;

/** Key under which a probe reads a revision, for backends without `ping`; it need not exist. */
const PROBE_DOC_ID = "open-ot-health-probe";

/**
 * Puts a deadline on every call of a backend and keeps track of whether its store answers.
 *
 * `backend` is the guarded backend: every call races a `timeoutMs` timer, and a call that
 * fails with {@link BackendUnavailableError} or runs out of time marks the store unreachable.
 * While it is unreachable, calls fail at once without being sent (a join or op is answered
 * `unavailable` in microseconds instead of after the deadline), and a probe (`ping`, or a
 * revision read) runs every `probeIntervalMs` until the store answers again; then calls flow
 * again. Nothing else is changed: results and other errors pass through as they are.
 *
 * Health: `reachable -> unreachable -> reachable ...`, changed only in `#set`.
 */
export class BackendGuard {
  /** The guarded backend: the same interface, with deadlines and fail-fast. */
  readonly backend: IBackendAdapter;
  readonly #inner: IBackendAdapter;
  readonly #timeoutMs: number;
  readonly #probeIntervalMs: number;
  readonly #logger: Logger;
  #health: BackendHealth = { reachable: true, since: Date.now(), lastError: undefined };
  readonly #listeners = new Set<(health: BackendHealth) => void>();
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Calls awaiting an answer, in the order they started (see `#timed`). */
  readonly #inFlight = new Set<InFlight>();
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #probing: Promise<BackendHealth> | undefined;

  constructor(inner: IBackendAdapter, options: BackendGuardOptions = {}) {
    this.#inner = inner;
    this.#timeoutMs = checkNumberOption("BackendGuard", "timeoutMs", options.timeoutMs ?? 5_000, POSITIVE_MS);
    this.#probeIntervalMs = checkNumberOption("BackendGuard", "probeIntervalMs", options.probeIntervalMs ?? 250, POSITIVE_MS);
    this.#logger = options.logger ?? silentLogger;
    this.backend = this.#facade();
  }

  /** The store's health as last seen. */
  get health(): BackendHealth {
    return this.#health;
  }

  /** The deadline of every call, in milliseconds. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Be told when the store becomes unreachable or reachable again. Returns a function that removes the listener. */
  onChange(listener: (health: BackendHealth) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Ask the store now (within the deadline) and resolve with its health; concurrent calls share
   * one probe. For a `/healthz` route: answer 200 when `reachable`, 503 otherwise.
   */
  check(): Promise<BackendHealth> {
    this.#probing ??= this.#probe().finally(() => {
      this.#probing = undefined;
    });
    return this.#probing;
  }

  /**
   * `pubsub` with the same deadline on `subscribe` and `publish` (a frozen store would
   * otherwise hold a join forever). A subscription confirmed after its deadline is undone.
   */
  guardPubSub(pubsub: PubSub): PubSub {
    const guarded: PubSub = {
      publish: (channel, message) => this.#call("publish", () => pubsub.publish(channel, message)),
      subscribe: (channel: string, onMessage: PubSubListener) => {
        let subscribing: Promise<() => Promise<void>> | undefined;
        return this.#call("subscribe", () => (subscribing = pubsub.subscribe(channel, onMessage))).catch((error: unknown) => {
          // Its caller was answered `unavailable`: a subscription confirmed later must not stay.
          void subscribing?.then(
            (unsubscribe) => unsubscribe(),
            () => undefined,
          );
          throw error;
        });
      },
      close: () => pubsub.close(),
    };
    if (pubsub.onResubscribe !== undefined) guarded.onResubscribe = pubsub.onResubscribe.bind(pubsub);
    if (pubsub.publishClientNotice !== undefined) {
      const publishClientNotice = pubsub.publishClientNotice.bind(pubsub);
      guarded.publishClientNotice = (notice) => this.#call("publishClientNotice", () => publishClientNotice(notice));
    }
    if (pubsub.subscribeClientNotices !== undefined) {
      const subscribeClientNotices = pubsub.subscribeClientNotices.bind(pubsub);
      guarded.subscribeClientNotices = (listener) => {
        let subscribing: Promise<() => Promise<void>> | undefined;
        return this.#call("subscribeClientNotices", () => (subscribing = subscribeClientNotices(listener))).catch((error: unknown) => {
          void subscribing?.then(
            (unsubscribe) => unsubscribe(),
            () => undefined,
          );
          throw error;
        });
      };
    }
    return guarded;
  }

  /** Stop probing and watching (the backend itself stays open: it is yours). */
  close(): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }

  // ------------------------------------------------------------------ calls

  #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (!this.#health.reachable) {
      return Promise.reject(
        new BackendUnavailableError(
          `${operation} was not sent: the server's storage has not answered since ${new Date(this.#health.since).toISOString()} (${this.#health.lastError ?? "unknown"}); it is probed every ${this.#probeIntervalMs} ms and calls resume when it answers`,
          false,
        ),
      );
    }
    return this.#timed(operation, run).then(
      (value) => value,
      (error: unknown) => {
        if (isBackendUnavailable(error)) this.#set(false, error.message);
        throw error;
      },
    );
  }

  /**
   * `run()` with the deadline; a settlement after it is ignored. One watchdog timer serves every
   * call in flight (a timer per call cost more than the in-memory calls it guarded), so a call
   * fails between `timeoutMs` and `timeoutMs` plus a tenth of it.
   */
  #timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: InFlight = {
        deadline: performance.now() + this.#timeoutMs,
        expire: () =>
          reject(
            new BackendUnavailableError(
              `${operation} got no answer from the server's storage within ${this.#timeoutMs} ms (backendTimeoutMs); its outcome is unknown: resend it with the same clientId and seq, which de-duplication makes safe`,
              true,
            ),
          ),
      };
      this.#inFlight.add(call);
      this.#watchdog ??= this.#startWatchdog();
      let pending: Promise<T>;
      try {
        pending = run();
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => {
          if (this.#inFlight.delete(call)) resolve(value);
        },
        (error: unknown) => {
          if (this.#inFlight.delete(call)) reject(error);
        },
      );
    });
  }

  #startWatchdog(): ReturnType<typeof setInterval> {
    const timer = setInterval(
      () => {
        if (this.#inFlight.size === 0) {
          clearInterval(timer);
          this.#watchdog = undefined;
          return;
        }
        const now = performance.now();
        // Calls join the set in the order they start, all with the same timeout: stop at the first alive.
        for (const call of this.#inFlight) {
          if (call.deadline > now) break;
          this.#inFlight.delete(call);
          call.expire();
        }
      },
      Math.max(1, this.#timeoutMs / 10),
    );
    timer.unref?.();
    return timer;
  }

  // ------------------------------------------------------------------ health

  async #probe(): Promise<BackendHealth> {
    try {
      await this.#timed("a health probe", () =>
        this.#inner.ping
          ? this.#inner.ping()
          : this.#inner.getRevision(PROBE_DOC_ID).then(
              () => undefined,
              (error: unknown) => {
                if (!(error instanceof DocumentNotFoundError || (error as { name?: unknown } | null)?.name === "DocumentNotFoundError"))
                  throw error;
              },
            ),
      );
      this.#set(true, undefined);
    } catch (error) {
      this.#set(false, error instanceof Error ? error.message : String(error));
    }
    return this.#health;
  }

  #set(reachable: boolean, why: string | undefined): void {
    const previous = this.#health;
    if (previous.reachable === reachable) {
      if (!reachable && why !== undefined) this.#health = { ...previous, lastError: why };
    } else {
      this.#health = { reachable, since: Date.now(), lastError: reachable ? previous.lastError : why };
      this.#logger[reachable ? "info" : "warn"]?.(
        reachable ? "the server's storage answers again" : "the server's storage is unreachable",
        {
          error: why,
        },
      );
      for (const listener of [...this.#listeners]) {
        try {
          listener(this.#health);
        } catch (error) {
          this.#logger.error?.("a backend health listener threw", { error });
        }
      }
    }
    if (!reachable && this.#probeTimer === undefined) {
      this.#probeTimer = setTimeout(() => {
        this.#probeTimer = undefined;
        void this.check();
      }, this.#probeIntervalMs);
      this.#probeTimer.unref?.();
    }
  }

  // ------------------------------------------------------------------ the guarded backend

  #facade(): IBackendAdapter {
    const inner = this.#inner;
    const call = <T>(operation: string, run: () => Promise<T>): Promise<T> => this.#call(operation, run);
    const guarded: IBackendAdapter = {
      createDocument: (docId, type, snapshot) => call("createDocument", () => inner.createDocument(docId, type, snapshot)),
      getRecord: (docId): Promise<DocumentRecord> => call("getRecord", () => inner.getRecord(docId)),
      getHistory: (docId, start, end) => call("getHistory", () => inner.getHistory(docId, start, end)),
      saveOperation: (docId, op, newRevision) => call("saveOperation", () => inner.saveOperation(docId, op, newRevision)),
      commit: (docId, request: CommitRequest): Promise<CommitResult> => call("commit", () => inner.commit(docId, request)),
      getOps: (docId, from, to): Promise<CommittedOp[]> => call("getOps", () => inner.getOps(docId, from, to)),
      getOldestKeptRevision: (docId) => call("getOldestKeptRevision", () => inner.getOldestKeptRevision(docId)),
      getLastSeq: (docId, clientId) => call("getLastSeq", () => inner.getLastSeq(docId, clientId)),
      getRevision: (docId) => call("getRevision", () => inner.getRevision(docId)),
      close: () => inner.close(),
    };
    if (inner.getClientPrincipal !== undefined) {
      const getClientPrincipal = inner.getClientPrincipal.bind(inner);
      guarded.getClientPrincipal = (docId, clientId) => call("getClientPrincipal", () => getClientPrincipal(docId, clientId));
    }
    if (inner.commitBatch !== undefined) {
      const commitBatch = inner.commitBatch.bind(inner);
      guarded.commitBatch = (docId, requests): Promise<CommitBatchResult> => call("commitBatch", () => commitBatch(docId, requests));
    }
    if (inner.checksKeptHistory !== undefined) (guarded as { checksKeptHistory?: boolean }).checksKeptHistory = inner.checksKeptHistory;
    if (inner.getLineage !== undefined) {
      const getLineage = inner.getLineage.bind(inner);
      guarded.getLineage = (docId): Promise<DocumentLineage> => call("getLineage", () => getLineage(docId));
    }
    if (inner.restoreDocument !== undefined) {
      const restore = inner.restoreDocument.bind(inner);
      guarded.restoreDocument = (docId, request: RestoreRequest): Promise<RestoreResult> =>
        call("restoreDocument", () => restore(docId, request));
    }
    if (inner.ping !== undefined) {
      const ping = inner.ping.bind(inner);
      guarded.ping = () => call("ping", () => ping());
    }
    return guarded;
  }
}
