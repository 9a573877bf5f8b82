import { describeValue, has, isMessageObject } from "./message-fields.js";
import { isValidAuthor, isValidRevision } from "./protocol.js";

// Presence (docs/protocol.md, "Presence"): ephemeral per-document state of each client. It
// never takes a revision and is never stored; a server that does not know it never sends it.

/** A selection in the document: `anchor` stays put, `head` moves; the caret is `anchor === head`. */
export interface PresenceRange {
  anchor: number;
  head: number;
}

/** What a client says about itself in one document (`presence` from client to server). */
export interface PresenceState {
  /** A name to show; chosen by the application, never trusted for authorization. */
  label?: string;
  /** A colour to show (any CSS colour string). */
  color?: string;
  /** The revision `ranges` refer to: the client's server revision when it had no edits pending. */
  revision?: number;
  /** Selections in the document at `revision` (text: UTF-16 code-unit indexes). */
  ranges?: PresenceRange[];
}

/** Client to server: set (or, with `state: null`, clear) this connection's presence in a joined document. */
export interface PresenceMessage {
  type: "presence";
  docId: string;
  state: PresenceState | null;
}

/** One peer as the server stamps it: the peer's own state plus who the server says it is. */
export interface PeerPresence extends PresenceState {
  /** The peer's `author` label in this document (what its ops carry): the key of the entry. */
  author: string;
  /** The peer's authenticated principal, stamped by the server when the connection has one. */
  principal?: string;
}

/** An entry of a presence update: a peer's new state, or `gone: true` when it left. */
export type PeerPresenceUpdate = PeerPresence | { author: string; gone: true };

/**
 * Server to client, only on connections that joined with `presence: true`: peers' presence.
 * With `full: true` (the first one after each join) it is the whole document's presence and
 * replaces what the client held; otherwise it changes only the entries it names.
 */
export interface PresenceUpdateMessage {
  type: "presence";
  docId: string;
  peers: PeerPresenceUpdate[];
  full?: boolean;
}

/** Most bytes of a presence state's JSON text a server accepts (`too_large` past it). */
export const MAX_PRESENCE_BYTES = 2048;
/** Most ranges one presence state may carry. */
export const MAX_PRESENCE_RANGES = 32;
/** Longest `label` (characters). */
export const MAX_PRESENCE_LABEL_LENGTH = 128;
/** Longest `color` (characters). */
export const MAX_PRESENCE_COLOR_LENGTH = 64;

function isPosition(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Check an untrusted presence state and return a copy holding only the known fields, or a
 * sentence saying what is wrong. `null` (clear) is accepted as is.
 */
export function readPresenceState(value: unknown): { ok: true; state: PresenceState | null } | { ok: false; message: string } {
  if (value === null) return { ok: true, state: null };
  if (!isMessageObject(value)) return { ok: false, message: `"state" must be an object or null; got ${describeValue(value)}.` };
  const state: PresenceState = {};
  if (has(value, "label")) {
    const label = value["label"];
    if (typeof label !== "string" || label.length > MAX_PRESENCE_LABEL_LENGTH) {
      return {
        ok: false,
        message: `"state.label" must be a string of at most ${MAX_PRESENCE_LABEL_LENGTH} characters; got ${describeValue(label)}.`,
      };
    }
    state.label = label;
  }
  if (has(value, "color")) {
    const color = value["color"];
    if (typeof color !== "string" || color.length > MAX_PRESENCE_COLOR_LENGTH) {
      return {
        ok: false,
        message: `"state.color" must be a string of at most ${MAX_PRESENCE_COLOR_LENGTH} characters; got ${describeValue(color)}.`,
      };
    }
    state.color = color;
  }
  if (has(value, "ranges")) {
    const ranges = value["ranges"];
    if (!Array.isArray(ranges) || ranges.length > MAX_PRESENCE_RANGES) {
      return {
        ok: false,
        message: `"state.ranges" must be an array of at most ${MAX_PRESENCE_RANGES} {anchor, head}; got ${describeValue(ranges)}.`,
      };
    }
    const out: PresenceRange[] = [];
    for (const range of ranges as unknown[]) {
      if (!isMessageObject(range) || !isPosition(range["anchor"]) || !isPosition(range["head"])) {
        return {
          ok: false,
          message: `each of "state.ranges" must be {anchor, head} with non-negative integers; got ${describeValue(range)}.`,
        };
      }
      out.push({ anchor: range["anchor"], head: range["head"] });
    }
    if (!has(value, "revision")) return { ok: false, message: `"state.ranges" needs "state.revision": the revision the ranges refer to.` };
    state.ranges = out;
  }
  if (has(value, "revision")) {
    const revision = value["revision"];
    if (!isValidRevision(revision))
      return { ok: false, message: `"state.revision" must be a non-negative integer; got ${describeValue(revision)}.` };
    state.revision = revision;
  }
  return { ok: true, state };
}

/** True for the `peers` of a {@link PresenceUpdateMessage}: each entry has an author and is a valid state or `gone`. */
export function isPresencePeers(value: unknown): value is PeerPresenceUpdate[] {
  if (!Array.isArray(value)) return false;
  return (value as unknown[]).every((entry) => {
    if (!isMessageObject(entry) || !isValidAuthor(entry["author"])) return false;
    if (entry["gone"] === true) return true;
    if (has(entry, "principal") && typeof entry["principal"] !== "string") return false;
    return readPresenceState(entry).ok;
  });
}
