import type { OTClient, OTClientStatus, OTConnection } from "@open-ot/client";
import type { OTType } from "@open-ot/core";

/** The document as a component reads it. */
export interface DocumentView<Snapshot, Op> {
  /** The document as the user sees it (local edits included); `undefined` until the server's snapshot arrived. */
  readonly snapshot: Snapshot | undefined;
  /** The document's client (for its events and actions: `retryNow`, `restore`...); `undefined` before the component mounted. */
  readonly client: OTClient<Snapshot, Op> | undefined;
  /** Why the document could not be opened (the server refused the first join...); `undefined` otherwise. */
  readonly error: unknown;
}

/** The connection and sync state of a document, for a status line. */
export interface SyncStatus {
  /** The client's status (its `state`: `live`, `offline`, `waiting`..., with a `reason` sentence). */
  readonly status: OTClientStatus;
  /** True when every local edit is acknowledged. */
  readonly synced: boolean;
}

/**
 * The registry keeps the handles of every document type in one map; each is read back by
 * `acquire` with the type it was opened with.
 */
function erase<Snapshot, Op>(handle: DocumentHandle<Snapshot, Op>): DocumentHandle<unknown, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed against @open-ot/client's sources, which the demo's examples project resolves
  return handle as unknown as DocumentHandle<unknown, unknown>;
}

/**
 * One open document shared by every component that uses it: the connection's client, the
 * components' listeners, and how many components hold it.
 */
export class DocumentHandle<Snapshot, Op> {
  readonly docId: string;
  readonly type: OTType<Snapshot, Op>;
  /** The connection's client of the document (it exists from the moment the handle is opened). */
  readonly client: OTClient<Snapshot, Op>;
  /** Why opening failed (the first join was refused, or the transport could not connect); `undefined` otherwise. */
  error: unknown = undefined;
  /** Components holding the handle; the document closes when the count falls to 0. */
  refs = 0;
  readonly #listeners = new Set<() => void>();
  #view: DocumentView<Snapshot, Op>;
  #syncStatus: SyncStatus | undefined;
  readonly #unwatch: readonly (() => void)[];

  constructor(docId: string, type: OTType<Snapshot, Op>, client: OTClient<Snapshot, Op>) {
    this.docId = docId;
    this.type = type;
    this.client = client;
    this.#view = { snapshot: this.snapshot, client, error: undefined };
    const notify = (): void => this.notify();
    // Every event after which a getter (snapshot, status, synced) may read differently.
    this.#unwatch = [
      client.on("snapshot", notify),
      client.on("remoteOp", notify),
      client.on("restored", notify),
      client.on("status", notify),
      client.on("synced", notify),
      client.on("state", notify),
    ];
  }

  /** The document as the user sees it, or `undefined` before the first snapshot. */
  get snapshot(): Snapshot | undefined {
    return this.client.hasDocument ? this.client.snapshot : undefined;
  }

  /** What {@link useDocument} reads: the same object until the snapshot or the error changes. */
  get view(): DocumentView<Snapshot, Op> {
    const snapshot = this.snapshot;
    if (this.#view.snapshot !== snapshot || this.#view.error !== this.error)
      this.#view = { snapshot, client: this.client, error: this.error };
    return this.#view;
  }

  /** What `useSyncStatus` reads: the same object until the status or `synced` changes. */
  get syncStatus(): SyncStatus {
    const { status, synced } = this.client;
    if (this.#syncStatus?.status !== status || this.#syncStatus.synced !== synced) this.#syncStatus = { status, synced };
    return this.#syncStatus;
  }

  /** Add a listener called after anything changed; returns the function that removes it. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tell the listeners that something may have changed (they compare what they read). */
  notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** Apply a local edit (it shows at once) and tell the listeners. */
  submit(op: Op): void {
    this.client.submit(op);
    this.notify();
  }

  /** Stop listening to the client. */
  dispose(): void {
    for (const unwatch of this.#unwatch) unwatch();
  }
}

/**
 * The documents opened through one {@link OTConnection} by React components, reference-counted:
 * the first {@link acquire} opens a document, the last {@link release} closes it (sends `leave`).
 * A close is deferred by a microtask and cancelled by an acquire before it runs, so React's
 * development double effects (unmount and mount again in one commit) neither leave nor rejoin.
 */
export class DocumentRegistry {
  readonly connection: OTConnection;
  readonly #handles = new Map<string, DocumentHandle<unknown, unknown>>();
  readonly #watchers = new Set<() => void>();

  constructor(connection: OTConnection) {
    this.connection = connection;
  }

  /** The open handle of `docId`, or `undefined`. */
  peek(docId: string): DocumentHandle<unknown, unknown> | undefined {
    return this.#handles.get(docId);
  }

  /** Be told when a document is opened or closed here; returns the function that stops it. */
  watch(listener: () => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /**
   * Hold `docId` open with `type`, opening it on the connection when no component holds it yet.
   * Throws a TypeError when it is held with another type.
   */
  acquire<Snapshot, Op>(docId: string, type: OTType<Snapshot, Op>): DocumentHandle<Snapshot, Op> {
    let handle = this.#handles.get(docId) as DocumentHandle<Snapshot, Op> | undefined;
    if (handle !== undefined && handle.type !== type) {
      const which =
        handle.type.name === type.name
          ? `another object of the type "${type.name}" (use one type object everywhere, a module-level constant)`
          : `the type "${handle.type.name}", not "${type.name}"`;
      throw new TypeError(`@open-ot/react: "${docId}" is open with ${which}`);
    }
    if (handle === undefined) {
      const opening = this.connection.open<Snapshot, Op>(docId, { type });
      // open() registers the client at once; it is the one the promise resolves with.
      const client = this.connection.document(docId) as OTClient<Snapshot, Op> | undefined;
      if (client === undefined) {
        // Only a closed connection or an invalid id register nothing; open() says which.
        opening.catch(() => undefined);
        throw new Error(
          `@open-ot/react: cannot open "${docId}": ${this.connection.state === "closed" ? "the connection was closed" : "not a valid document id"}`,
        );
      }
      const opened = new DocumentHandle(docId, type, client);
      handle = opened;
      opening.catch((error: unknown) => {
        opened.error = error;
        opened.notify();
      });
      this.#handles.set(docId, erase(handle));
      this.#changed();
    }
    handle.refs++;
    return handle;
  }

  /** Let go of a handle from {@link acquire}; the last one out closes the document. */
  release<Snapshot, Op>(acquired: DocumentHandle<Snapshot, Op>): void {
    const handle = erase(acquired);
    handle.refs--;
    if (handle.refs > 0) return;
    queueMicrotask(() => {
      if (handle.refs > 0 || this.#handles.get(handle.docId) !== handle) return;
      this.#handles.delete(handle.docId);
      handle.dispose();
      this.#changed();
      if (handle.error === undefined || handle.client.hasDocument) {
        // The connection logs nothing here; a failed leave only means the server drops the membership with the connection.
        handle.client.disconnect().catch(() => undefined);
      }
    });
  }

  #changed(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }
}
