import { TextType, type OTType, type PresenceUpdateMessage, type TextOp } from "@open-ot/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PresenceTracker } from "./presence-tracker.js";

/** A document of distinct characters, so a character's index can be found after edits. */
const distinct = (n: number, from: number): string => Array.from({ length: n }, (_, k) => String.fromCharCode(from + k)).join("");

interface Edit {
  at: number;
  del: number;
  text: string;
}

/** An edit as a text op on `doc`, never deleting the character at `keep`. */
function toOp(doc: string, edit: Edit, keep: number): { op: TextOp; doc: string } {
  const at = Math.min(edit.at, doc.length);
  let del = Math.min(edit.del, doc.length - at);
  if (at <= keep && keep < at + del) del = keep - at;
  const op: TextOp = [];
  if (at > 0) op.push({ r: at });
  if (edit.text !== "") op.push({ i: edit.text });
  if (del > 0) op.push({ d: del });
  return { op: TextType.normalize(op), doc: doc.slice(0, at) + edit.text + doc.slice(at + del) };
}

const edits = fc.array(fc.record({ at: fc.nat(40), del: fc.nat(6), text: fc.constantFrom("", "x", "yz", "\n") }), { maxLength: 12 });

function tracker(type: OTType<string, TextOp> = TextType): PresenceTracker<string, TextOp> {
  return new PresenceTracker(type, 0, () => true);
}

const peer = (revision: number, at: number, extra: Partial<PresenceUpdateMessage> = {}): PresenceUpdateMessage => ({
  type: "presence",
  docId: "d",
  peers: [{ author: "p", label: "P", revision, ranges: [{ anchor: at, head: at }] }],
  ...extra,
});

describe("PresenceTracker: a peer's caret stays on its character", () => {
  it("through committed ops received after the entry", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.nat(29), edits, (length, target, list) => {
        const keep = target % length;
        let doc = distinct(length, 0x4e00);
        const marker = doc[keep] as string;
        const t = tracker();
        t.receive(peer(0, keep, { full: true }), 0);
        list.forEach((edit, index) => {
          const next = toOp(doc, edit, doc.indexOf(marker));
          doc = next.doc;
          t.committed(index + 1, next.op);
        });
        expect(t.peers(list.length, []).get("p")?.ranges).toEqual([{ anchor: doc.indexOf(marker), head: doc.indexOf(marker) }]);
      }),
      { numRuns: 300 },
    );
  });

  it("for an entry about an older revision (placed through the kept ops) and through unacknowledged edits", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.nat(29), edits, edits, (length, target, committed, pending) => {
        const keep = target % length;
        let doc = distinct(length, 0x4e00);
        const marker = doc[keep] as string;
        const t = tracker();
        t.receive({ type: "presence", docId: "d", peers: [], full: true }, 0);
        committed.forEach((edit, index) => {
          const next = toOp(doc, edit, doc.indexOf(marker));
          doc = next.doc;
          t.committed(index + 1, next.op);
        });
        // The entry names revision 0; the client is at committed.length already.
        t.receive(peer(0, keep), committed.length);
        const own: TextOp[] = [];
        for (const edit of pending) {
          const next = toOp(doc, edit, doc.indexOf(marker));
          doc = next.doc;
          own.push(next.op);
        }
        expect(t.peers(committed.length, own).get("p")?.ranges).toEqual([{ anchor: doc.indexOf(marker), head: doc.indexOf(marker) }]);
      }),
      { numRuns: 300 },
    );
  });

  it("holds an entry from ahead of the client until the client catches up", () => {
    const t = tracker();
    t.receive(peer(2, 1, { full: true }), 0);
    expect(t.peers(0, []).get("p")?.ranges).toBeUndefined();
    t.committed(1, [{ i: "a" }]);
    t.committed(2, [{ i: "b" }]);
    expect(t.peers(2, []).get("p")?.ranges).toEqual([{ anchor: 1, head: 1 }]);
    t.committed(3, [{ i: "c" }]);
    expect(t.peers(3, []).get("p")?.ranges).toEqual([{ anchor: 2, head: 2 }]);
  });

  it("gives a type without a cursor transform presence without ranges, and sends none", () => {
    const { transformCursor: _unused, ...plain } = TextType;
    const sent: unknown[] = [];
    const t = new PresenceTracker<string, TextOp>(plain, 0, (state) => (sent.push(state), true));
    t.receive(peer(0, 1, { full: true }), 0);
    expect(t.peers(0, []).get("p")).toEqual({ author: "p", label: "P" });
    t.set({ label: "me", ranges: [{ anchor: 0, head: 0 }] });
    expect(sent).toEqual([{ label: "me", ranges: undefined }]);
  });

  it("refuses ranges that are not positions, changing nothing", () => {
    const sent: unknown[] = [];
    const t = new PresenceTracker<string, TextOp>(TextType, 0, (state) => (sent.push(state), true));
    t.receive({ type: "presence", docId: "d", peers: [], full: true }, 0);
    expect(() => t.set({ ranges: [{ anchor: -1, head: 0 }] })).toThrow(TypeError);
    t.viewChanged([{ i: "a" }]);
    expect(sent).toEqual([]);
  });

  it("sends nothing before the server said it takes presence, and the last value after", () => {
    const sent: unknown[] = [];
    const t = new PresenceTracker<string, TextOp>(TextType, 0, (state) => (sent.push(state), true));
    t.set({ label: "a" });
    t.set({ label: "b" });
    expect(sent).toEqual([]);
    t.receive({ type: "presence", docId: "d", peers: [], full: true }, 0);
    expect(sent).toEqual([{ label: "b" }]);
  });
});
