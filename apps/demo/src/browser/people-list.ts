import type { PeerPresenceView } from "@open-ot/client";

/** One row of the people list. */
export interface PersonRow {
  readonly author: string;
  readonly label: string;
  readonly color: string;
  /** `line:column` (both from 1) of the caret (a selection's head), when the peer sent one. */
  readonly where: string | undefined;
}

/** `line:column`, both counted from 1, of a code-unit `offset` in `text` (clamped to the text). */
export function lineColumn(text: string, offset: number): string {
  const at = Math.max(0, Math.min(offset, text.length));
  const before = text.slice(0, at);
  const lineStart = before.lastIndexOf("\n") + 1;
  let line = 1;
  for (let i = before.indexOf("\n"); i !== -1; i = before.indexOf("\n", i + 1)) line++;
  return `${line}:${at - lineStart + 1}`;
}

/** The rows of the people list, sorted by label: each peer's name, colour and where its caret is in `text`. */
export function peopleRows(peers: ReadonlyMap<string, PeerPresenceView>, text: string): PersonRow[] {
  const rows: PersonRow[] = [];
  for (const [author, peer] of peers) {
    const head = peer.ranges?.[0]?.head;
    rows.push({
      author,
      label: peer.label ?? "someone",
      color: peer.color ?? "#888",
      where: head === undefined ? undefined : lineColumn(text, head),
    });
  }
  return rows.sort((a, b) => a.label.localeCompare(b.label) || a.author.localeCompare(b.author));
}

const NAMES = ["Ada", "Brian", "Chen", "Dana", "Emeka", "Farah", "Grace", "Hiro", "Ines", "Jonas"];
const COLORS = ["#d33682", "#268bd2", "#2aa198", "#859900", "#b58900", "#cb4b16", "#6c71c4", "#dc322f"];

/** A name and colour for this page (the demo has no accounts): random, as a label is never trusted anyway. */
export function randomIdentity(random: () => number = Math.random): { label: string; color: string } {
  const name = NAMES[Math.floor(random() * NAMES.length)] ?? "Ada";
  return { label: `${name} ${Math.floor(random() * 90 + 10)}`, color: COLORS[Math.floor(random() * COLORS.length)] ?? "#268bd2" };
}
