import { randomUUID } from "node:crypto";
import {
  checkNumberOption,
  MAX_PRESENCE_BYTES,
  type Logger,
  type PeerPresence,
  type PeerPresenceUpdate,
  type PresenceState,
  type PresenceUpdateMessage,
} from "@open-ot/core";
import type { PresenceNotice, PresencePubSub } from "./presence-pub-sub.js";

/** Options of the hub's presence (see `HubOptions.presence`). */
export interface PresenceOptions {
  /** How long a dropped connection's entry stays, so a reconnect does not flicker. @default 5000 */
  graceMs?: number;
  /**
   * Within how long another instance's entries disappear once it stops refreshing them (it
   * died); each instance refreshes its own every quarter of this. @default 30000
   */
  expiryMs?: number;
  /** Each document's changes go out at most once per this many milliseconds (coalesced). @default 50 */
  flushMs?: number;
  /** Most bytes of an entry's JSON text; bigger ones are refused with `too_large`. @default 2048 */
  maxBytes?: number;
}

/** One connection that receives a document's presence. */
export interface PresenceSubscriber {
  /** Hand a presence message to the connection. */
  send(message: PresenceUpdateMessage): void;
}

type Timer = ReturnType<typeof setTimeout>;

interface LocalEntry {
  entry: PeerPresence;
  owner: PresenceSubscriber;
  /** Set while the owner's connection is gone and the grace runs. */
  removal: Timer | undefined;
}

interface RemoteEntry {
  readonly entry: PeerPresence;
  readonly instance: string;
}

/** The presence of one document on this instance. Lifecycle: `subscribing -> open -> closed`. */
interface DocumentPresence {
  readonly docId: string;
  /** Local connections receiving the document's presence, with the author each speaks as. */
  readonly subscribers: Map<PresenceSubscriber, string>;
  readonly local: Map<string, LocalEntry>;
  readonly remote: Map<string, RemoteEntry>;
  /** When each other instance last published about this document (ms, monotonic). */
  readonly seen: Map<string, number>;
  /** Changes for the local subscribers, and the local ones among them for the other instances. */
  readonly pendingOut: Map<string, PeerPresenceUpdate>;
  readonly pendingPublish: Map<string, PeerPresenceUpdate>;
  flushTimer: Timer | undefined;
  lastFlush: number;
  unsubscribe: Promise<(() => Promise<void>) | undefined>;
}

const now = (): number => performance.now();

/**
 * The hub's presence: a table per document of this instance's entries (set by its connections)
 * and other instances' (from the pub/sub), fan-out of coalesced changes, the grace of dropped
 * connections, and the expiry of dead instances' entries. Presence never touches the op log.
 */
export class PresenceService {
  readonly instance = randomUUID();
  private readonly docs = new Map<string, DocumentPresence>();
  private readonly graceMs: number;
  private readonly expiryMs: number;
  private readonly flushMs: number;
  private readonly maxBytes: number;
  private readonly ticker: Timer;
  private state: "open" | "closed" = "open";

  constructor(
    private readonly pubsub: PresencePubSub | undefined,
    private readonly logger: Logger,
    options: PresenceOptions = {},
  ) {
    this.graceMs = checkNumberOption("Hub", "presence.graceMs", options.graceMs ?? 5000, { min: 0 });
    this.expiryMs = checkNumberOption("Hub", "presence.expiryMs", options.expiryMs ?? 30_000, { min: 4 });
    this.flushMs = checkNumberOption("Hub", "presence.flushMs", options.flushMs ?? 50, { min: 0 });
    this.maxBytes = checkNumberOption("Hub", "presence.maxBytes", options.maxBytes ?? MAX_PRESENCE_BYTES, { min: 64, integer: true });
    this.ticker = setInterval(() => this.tick(), this.expiryMs / 4);
    this.ticker.unref?.();
  }

  /** The entries this instance holds for its own connections (what `openot_presence_entries` counts). */
  get entryCount(): number {
    let count = 0;
    for (const doc of this.docs.values()) count += doc.local.size;
    return count;
  }

  /**
   * `subscriber` joined `docId` asking for presence: send it the whole document's presence (all
   * instances), then changes. A connection of the same author that comes back within the grace
   * takes its entry over.
   */
  join(subscriber: PresenceSubscriber, docId: string, author: string): void {
    if (this.state === "closed") return;
    const doc = this.document(docId);
    doc.subscribers.set(subscriber, author);
    const own = doc.local.get(author);
    if (own !== undefined) {
      if (own.removal !== undefined) clearTimeout(own.removal);
      own.removal = undefined;
      own.owner = subscriber;
    }
    const peers: PeerPresence[] = [];
    for (const [key, { entry }] of doc.local) if (key !== author) peers.push(entry);
    for (const [key, { entry }] of doc.remote) if (key !== author && !doc.local.has(key)) peers.push(entry);
    subscriber.send({ type: "presence", docId, peers, full: true });
  }

  /**
   * Set (or clear, with null) the subscriber's entry. Returns a refusal sentence for an entry
   * that is too large; ignores a subscriber that did not join the document with presence.
   */
  set(subscriber: PresenceSubscriber, docId: string, state: PresenceState | null, principal: string | undefined): string | undefined {
    const doc = this.docs.get(docId);
    const author = doc?.subscribers.get(subscriber);
    if (doc === undefined || author === undefined) return undefined;
    if (state === null) {
      this.removeLocal(doc, author, subscriber);
      return undefined;
    }
    const entry: PeerPresence = { ...state, author, ...(principal === undefined ? {} : { principal }) };
    const bytes = Buffer.byteLength(JSON.stringify(entry));
    if (bytes > this.maxBytes)
      return `This presence is ${bytes} bytes; the most is ${this.maxBytes}: send fewer ranges or a shorter label.`;
    const known = doc.local.get(author);
    if (known !== undefined && known.removal !== undefined) clearTimeout(known.removal);
    doc.local.set(author, { entry, owner: subscriber, removal: undefined });
    this.change(doc, author, entry, true);
    return undefined;
  }

  /** The subscriber left the document: its entry goes at once. */
  leave(subscriber: PresenceSubscriber, docId: string): void {
    const doc = this.docs.get(docId);
    const author = doc?.subscribers.get(subscriber);
    if (doc === undefined || author === undefined) return;
    doc.subscribers.delete(subscriber);
    this.removeLocal(doc, author, subscriber);
    this.disposeIfUnused(doc);
  }

  /** The subscriber's connection is gone: its entries go after the grace, unless it comes back. */
  drop(subscriber: PresenceSubscriber): void {
    for (const doc of [...this.docs.values()]) {
      const author = doc.subscribers.get(subscriber);
      if (author === undefined) continue;
      doc.subscribers.delete(subscriber);
      const entry = doc.local.get(author);
      if (entry !== undefined && entry.owner === subscriber) {
        entry.removal = setTimeout(() => {
          if (doc.local.get(author) === entry) this.removeLocal(doc, author, subscriber);
          this.disposeIfUnused(doc);
        }, this.graceMs);
        entry.removal.unref?.();
      }
      this.disposeIfUnused(doc);
    }
  }

  /** Stop: timers and subscriptions end; nothing is published (other instances expire our entries). */
  close(): Promise<void> {
    if (this.state === "closed") return Promise.resolve();
    this.state = "closed";
    clearInterval(this.ticker);
    const unsubscribes: Promise<void>[] = [];
    for (const doc of this.docs.values()) {
      if (doc.flushTimer !== undefined) clearTimeout(doc.flushTimer);
      for (const entry of doc.local.values()) if (entry.removal !== undefined) clearTimeout(entry.removal);
      unsubscribes.push(doc.unsubscribe.then((off) => off?.()).catch(() => undefined));
    }
    this.docs.clear();
    return Promise.all(unsubscribes).then(() => undefined);
  }

  // ------------------------------------------------------------------ internals

  private document(docId: string): DocumentPresence {
    const known = this.docs.get(docId);
    if (known !== undefined) return known;
    const doc: DocumentPresence = {
      docId,
      subscribers: new Map(),
      local: new Map(),
      remote: new Map(),
      seen: new Map(),
      pendingOut: new Map(),
      pendingPublish: new Map(),
      flushTimer: undefined,
      lastFlush: -Infinity,
      unsubscribe: Promise.resolve(undefined),
    };
    this.docs.set(docId, doc);
    const pubsub = this.pubsub;
    if (pubsub !== undefined) {
      doc.unsubscribe = pubsub
        .subscribePresence(docId, (notice) => this.onNotice(doc, notice))
        .then(
          (off) => {
            // Ask the others for their entries: the joiners here get them as changes.
            this.publish({ kind: "query", docId, instance: this.instance });
            return off;
          },
          (error: unknown) => {
            this.logger.warn?.("could not subscribe to a document's presence", { docId, error });
            return undefined;
          },
        );
    }
    return doc;
  }

  private disposeIfUnused(doc: DocumentPresence): void {
    if (doc.subscribers.size > 0 || doc.local.size > 0 || this.docs.get(doc.docId) !== doc) return;
    this.flush(doc);
    this.docs.delete(doc.docId);
    void doc.unsubscribe
      .then((off) => off?.())
      .catch((error: unknown) => this.logger.warn?.("could not unsubscribe from a document's presence", { docId: doc.docId, error }));
  }

  private removeLocal(doc: DocumentPresence, author: string, owner: PresenceSubscriber): void {
    const entry = doc.local.get(author);
    if (entry === undefined || entry.owner !== owner) return;
    if (entry.removal !== undefined) clearTimeout(entry.removal);
    doc.local.delete(author);
    const remote = doc.remote.get(author);
    this.change(doc, author, remote?.entry ?? { author, gone: true }, true);
  }

  /** Queue a change for the local subscribers (and, when `local`, for the other instances). */
  private change(doc: DocumentPresence, author: string, update: PeerPresenceUpdate, local: boolean): void {
    doc.pendingOut.set(author, update);
    if (local) doc.pendingPublish.set(author, "gone" in update || doc.local.has(author) ? update : { author, gone: true });
    if (doc.flushTimer !== undefined || this.state === "closed") return;
    const delay = Math.max(0, doc.lastFlush + this.flushMs - now());
    doc.flushTimer = setTimeout(() => this.flush(doc), delay);
  }

  private flush(doc: DocumentPresence): void {
    if (doc.flushTimer !== undefined) clearTimeout(doc.flushTimer);
    doc.flushTimer = undefined;
    doc.lastFlush = now();
    if (doc.pendingOut.size > 0) {
      const changes = [...doc.pendingOut.values()];
      doc.pendingOut.clear();
      for (const [subscriber, author] of doc.subscribers) {
        // A subscriber is not sent its own entry.
        const peers = changes.filter((change) => change.author !== author);
        if (peers.length > 0) subscriber.send({ type: "presence", docId: doc.docId, peers });
      }
    }
    if (doc.pendingPublish.size > 0) {
      const peers = [...doc.pendingPublish.values()];
      doc.pendingPublish.clear();
      this.publish({ kind: "update", docId: doc.docId, instance: this.instance, peers });
    }
  }

  private onNotice(doc: DocumentPresence, notice: PresenceNotice): void {
    if (notice.instance === this.instance || this.state === "closed" || this.docs.get(doc.docId) !== doc) return;
    doc.seen.set(notice.instance, now());
    switch (notice.kind) {
      case "query":
        this.publishRefresh(doc);
        return;
      case "update":
        for (const peer of notice.peers) this.applyRemote(doc, notice.instance, peer);
        return;
      case "refresh": {
        const listed = new Set(notice.peers.map((peer) => peer.author));
        for (const [author, entry] of doc.remote) {
          if (entry.instance === notice.instance && !listed.has(author)) this.applyRemote(doc, notice.instance, { author, gone: true });
        }
        for (const peer of notice.peers) {
          const known = doc.remote.get(peer.author);
          // A refresh repeats what is known: only what differs is a change.
          if (known?.instance !== notice.instance || JSON.stringify(known.entry) !== JSON.stringify(peer))
            this.applyRemote(doc, notice.instance, peer);
        }
      }
    }
  }

  private applyRemote(doc: DocumentPresence, instance: string, peer: PeerPresenceUpdate): void {
    if ("gone" in peer) {
      // Only the instance that holds the entry removes it (a client may have moved on to another).
      if (doc.remote.get(peer.author)?.instance !== instance) return;
      doc.remote.delete(peer.author);
    } else {
      doc.remote.set(peer.author, { entry: peer, instance });
    }
    // This instance's own entry of the author wins over what others say.
    if (!doc.local.has(peer.author)) this.change(doc, peer.author, peer, false);
  }

  private publishRefresh(doc: DocumentPresence): void {
    if (doc.local.size === 0) return;
    this.publish({ kind: "refresh", docId: doc.docId, instance: this.instance, peers: [...doc.local.values()].map(({ entry }) => entry) });
  }

  private publish(notice: PresenceNotice): void {
    if (this.pubsub === undefined || this.state === "closed") return;
    this.pubsub
      .publishPresence(notice)
      .catch((error: unknown) => this.logger.warn?.("could not publish presence", { docId: notice.docId, error }));
  }

  /** Every quarter of the expiry: refresh our entries elsewhere, and drop those of instances gone silent for half of it. */
  private tick(): void {
    // Silent for half the expiry (two refreshes missed): with a sweep every quarter, its
    // entries go within three quarters of the expiry after its last refresh.
    const deadline = now() - this.expiryMs / 2;
    for (const doc of this.docs.values()) {
      this.publishRefresh(doc);
      for (const [instance, seen] of doc.seen) {
        if (seen >= deadline) continue;
        doc.seen.delete(instance);
        for (const [author, entry] of doc.remote) if (entry.instance === instance) this.applyRemote(doc, instance, { author, gone: true });
      }
    }
  }
}
