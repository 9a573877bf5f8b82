import type { OTType, PeerPresence, PresenceRange, PresenceState, PresenceUpdateMessage } from "@open-ot/core";

/** What the application sets as its presence: ranges are in the client's current view. */
export type LocalPresence = Omit<PresenceState, "revision">;

/** A peer's presence as the client shows it: its ranges mapped into the current local view. */
export type PeerPresenceView = Omit<PeerPresence, "revision">;

/** A peer as received, with its ranges kept in the server document at revision `at`. */
interface Peer {
  readonly entry: PeerPresence;
  ranges: PresenceRange[] | undefined;
  /** The revision `ranges` are at; `undefined` when they cannot be placed (a type without cursor transform). */
  at: number | undefined;
}

const isPosition = (value: unknown): boolean => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** Committed ops kept to bring an entry that refers to an older revision up to date. */
const HISTORY = 256;

/**
 * The presence half of an `OTClient` (docs/protocol.md, "Presence"): peers' entries with their
 * ranges carried through every committed op by the type's `transformCursor`, the local state
 * carried through the view's changes, and when to send it (only with no edits pending, so its
 * ranges are exactly the server document at the revision it names; at most every `intervalMs`).
 */
export class PresenceTracker<Snapshot, Op> {
  readonly #type: OTType<Snapshot, Op>;
  readonly #peers = new Map<string, Peer>();
  /** Recent committed ops by revision (the op that made revision r is at r). */
  readonly #history = new Map<number, Op>();
  /** `undefined`: never set; `null`: cleared. */
  #local: LocalPresence | null | undefined;
  /** The local state changed since it was last sent. */
  #dirty = false;
  /** The server sent presence on this connection, so it takes ours. */
  #serverReady = false;
  #lastSent = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    type: OTType<Snapshot, Op>,
    private readonly intervalMs: number,
    /** Send `state`, if the client can now (live, nothing pending); false when it cannot. */
    private readonly trySend: (state: LocalPresence | null) => boolean,
  ) {
    this.#type = type;
  }

  /** The type maps ranges (it has `transformCursor`). */
  get mapsRanges(): boolean {
    return this.#type.transformCursor !== undefined;
  }

  /** Throws a TypeError, changing nothing, for ranges that are not non-negative integers. */
  set(state: LocalPresence | null): void {
    for (const range of state?.ranges ?? []) {
      if (!isPosition(range.anchor) || !isPosition(range.head)) {
        throw new TypeError(`OTClient: setPresence ranges need non-negative integer anchor and head, got ${JSON.stringify(range)}`);
      }
    }
    this.#local =
      state === null ? null : { ...state, ...(state.ranges === undefined ? {} : { ranges: state.ranges.map((r) => ({ ...r })) }) };
    this.#dirty = true;
    this.flush();
  }

  /** A join went out: the server must say again that it takes presence. */
  joinSent(): void {
    this.#serverReady = false;
  }

  /** A resync replaced the document: older ops no longer apply to what the client holds. */
  reset(): void {
    this.#history.clear();
  }

  /**
   * The op that made `revision` was committed (a remote op, or this client's acked op), applied
   * to the server document: peers whose ranges were at `revision - 1` move with it.
   */
  committed(revision: number, op: Op): void {
    this.#history.set(revision, op);
    this.#history.delete(revision - HISTORY);
    for (const peer of this.#peers.values()) {
      if (peer.at === revision - 1 && peer.ranges !== undefined) {
        peer.ranges = this.#mapRanges(peer.ranges, [op]);
        peer.at = revision;
      }
    }
  }

  /** The local view changed by `op` (a local edit, or a remote op transformed for the view). */
  viewChanged(op: Op): void {
    const local = this.#local;
    if (local?.ranges !== undefined && this.mapsRanges) local.ranges = this.#mapRanges(local.ranges, [op]);
  }

  /** A presence message from the server; `revision` is the client's. Returns true when peers changed. */
  receive(message: PresenceUpdateMessage, revision: number): boolean {
    if (message.full === true) {
      this.#serverReady = true;
      this.#peers.clear();
      // Ours is not known to this connection yet: send it again.
      if (this.#local !== undefined) this.#dirty = true;
    }
    for (const update of message.peers) {
      if ("gone" in update) {
        this.#peers.delete(update.author);
        continue;
      }
      this.#peers.set(update.author, this.#place(update, revision));
    }
    this.flush();
    return true;
  }

  /** Every peer, ranges mapped through `pending` (the client's unacknowledged ops, oldest first) into the view. */
  peers(revision: number, pending: readonly Op[]): Map<string, PeerPresenceView> {
    const out = new Map<string, PeerPresenceView>();
    for (const [author, peer] of this.#peers) {
      const { revision: _revision, ranges: _ranges, ...rest } = peer.entry;
      const view: PeerPresenceView = { ...rest };
      // Ranges ahead of the client (ops it has not received yet) or unplaceable are left out.
      if (peer.ranges !== undefined && peer.at === revision) view.ranges = this.#mapRanges(peer.ranges, pending);
      out.set(author, view);
    }
    return out;
  }

  /** Send the local state if it changed, the server takes it, and the interval allows. */
  flush(): void {
    if (!this.#dirty || !this.#serverReady || this.#timer !== undefined) return;
    const wait = this.#lastSent + this.intervalMs - performance.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, wait);
      return;
    }
    const local = this.#local;
    if (local === undefined) return;
    const outgoing = local === null ? null : this.mapsRanges ? local : { ...local, ranges: undefined };
    if (!this.trySend(outgoing)) return;
    this.#dirty = false;
    this.#lastSent = performance.now();
  }

  /** Stop the timer (the client disconnected). */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#serverReady = false;
  }

  #place(entry: PeerPresence, revision: number): Peer {
    if (entry.ranges === undefined || entry.revision === undefined || !this.mapsRanges) return { entry, ranges: undefined, at: undefined };
    let ranges = entry.ranges;
    let at = entry.revision;
    // Bring ranges from an older revision up to the client's through the ops kept.
    while (at < revision) {
      const op = this.#history.get(at + 1);
      if (op === undefined) return { entry, ranges: undefined, at: undefined };
      ranges = this.#mapRanges(ranges, [op]);
      at++;
    }
    // Ranges ahead of the client wait for `committed` to reach them.
    return { entry, ranges, at };
  }

  #mapRanges(ranges: readonly PresenceRange[], ops: readonly Op[]): PresenceRange[] {
    const type = this.#type;
    if (type.transformCursor === undefined) return [...ranges];
    return ranges.map((range) => {
      let { anchor, head } = range;
      for (const op of ops) {
        // An insert at a position pushes it right, as a peer's typing at a caret does.
        anchor = type.transformCursor?.(anchor, op, "right") ?? anchor;
        head = type.transformCursor?.(head, op, "right") ?? head;
      }
      return { anchor, head };
    });
  }
}
