import type { LocalPresence, OTClient, OTClientStatus, OTConnection, PeerPresenceView } from "@open-ot/client";
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

/** Peers' presence before any arrived (the same object every time). */
export const NO_PEERS: ReadonlyMap<string, PeerPresenceView> = new Map();

function sameRanges(a: PeerPresenceView["ranges"], b: PeerPresenceView["ranges"]): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((range, i) => range.anchor === b[i]?.anchor && range.head === b[i]?.head);
}

/** Two peer maps show the same people at the same places. */
function samePeers(a: ReadonlyMap<string, PeerPresenceView>, b: ReadonlyMap<string, PeerPresenceView>): boolean {
  if (a.size !== b.size) return false;
  for (const [author, peer] of a) {
    const other = b.get(author);
    if (
      other === undefined ||
      peer.principal !== other.principal ||
      peer.label !== other.label ||
      peer.color !== other.color ||
      !sameRanges(peer.ranges, other.ranges)
    )
      return false;
  }
  return true;
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
  #peers: ReadonlyMap<string, PeerPresenceView> = NO_PEERS;
  /** Something happened after which peers may read differently (their ranges follow every edit). */
  #peersStale = true;
  /** The `usePresence` callers subscribed now, each by its token. */
  readonly #presenceHolders = new Set<object>();
  /** The caller whose local presence is set: its unmount clears it. */
  #presenceOwner: object | undefined;

  constructor(docId: string, type: OTType<Snapshot, Op>, client: OTClient<Snapshot, Op>) {
    this.docId = docId;
    this.type = type;
    this.client = client;
    this.#view = { snapshot: this.snapshot, client, error: undefined };
    const notify = (): void => this.notify();
    // Every event after which a getter (snapshot, status, synced, peers) may read differently.
    this.#unwatch = [
      client.on("snapshot", notify),
      client.on("remoteOp", notify),
      client.on("restored", notify),
      client.on("status", notify),
      client.on("synced", notify),
      client.on("state", notify),
      client.on("presence", notify),
      client.on("ack", notify),
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

  /**
   * What `usePresence` reads: the other clients' presence (ranges mapped into the local view),
   * the same object until someone joins, leaves, or shows somewhere else.
   */
  get peers(): ReadonlyMap<string, PeerPresenceView> {
    if (this.#peersStale) {
      this.#peersStale = false;
      const peers = this.client.presence;
      if (!samePeers(peers, this.#peers)) this.#peers = peers.size === 0 ? NO_PEERS : peers;
    }
    return this.#peers;
  }

  /** A `usePresence` caller (by its token) subscribed: its local presence is kept. */
  holdPresence(token: object): void {
    this.#presenceHolders.add(token);
  }

  /**
   * A `usePresence` caller unsubscribed. Its local presence is cleared a microtask later, unless
   * it subscribed again meanwhile (strict mode's double effects) or another caller set its own.
   */
  dropPresence(token: object): void {
    this.#presenceHolders.delete(token);
    if (this.#presenceOwner !== token) return;
    queueMicrotask(() => {
      if (this.#presenceOwner !== token || this.#presenceHolders.has(token)) return;
      this.#presenceOwner = undefined;
      this.client.clearPresence();
    });
  }

  /**
   * Set (`state`) or clear (`null`) the local presence for the caller `token`; false, changing
   * nothing, when that caller is not subscribed.
   */
  setLocalPresence(token: object, state: LocalPresence | null): boolean {
    if (!this.#presenceHolders.has(token)) return false;
    if (state === null) {
      this.#presenceOwner = undefined;
      this.client.clearPresence();
    } else {
      this.#presenceOwner = token;
      this.client.setPresence(state);
    }
    return true;
  }

  /** Add a listener called after anything changed; returns the function that removes it. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tell the listeners that something may have changed (they compare what they read). */
  notify(): void {
    this.#peersStale = true;
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
      // Every document takes part in presence, so that any component may show or set it.
      const opening = this.connection.open<Snapshot, Op>(docId, { type, presence: true });
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
