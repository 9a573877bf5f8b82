import { describe, expect, it } from "vitest";
import { judgeJoin, type JoinClaim } from "./join-lineage.js";

const creates = { createOnJoin: true, canRestore: true };
const claim = (revision: number | undefined, epoch?: string, restore = false): JoinClaim => ({ revision, epoch, restore });

describe("judgeJoin", () => {
  it("creates a missing document only for a client that holds no copy of it", () => {
    expect(judgeJoin(undefined, claim(undefined), creates)).toEqual({ kind: "create" });
    expect(judgeJoin(undefined, claim(0), creates)).toEqual({ kind: "create" });
    // A revision above 0, or any epoch, is a copy of a document that existed: it was lost.
    expect(judgeJoin(undefined, claim(5), creates)).toEqual({ kind: "lost", serverRevision: null });
    expect(judgeJoin(undefined, claim(undefined, "e1"), creates)).toEqual({ kind: "lost", serverRevision: null });
    expect(judgeJoin(undefined, claim(0, "e1"), creates)).toEqual({ kind: "lost", serverRevision: null });
    expect(judgeJoin(undefined, claim(5), { createOnJoin: false, canRestore: true })).toEqual({ kind: "not_found" });
  });

  it("restores a missing document from a join's copy, when the backend can", () => {
    expect(judgeJoin(undefined, claim(5, "e1", true), creates)).toEqual({ kind: "restore", ifEpoch: undefined });
    expect(judgeJoin(undefined, claim(5, undefined, true), creates)).toEqual({ kind: "restore", ifEpoch: undefined });
    expect(judgeJoin(undefined, claim(5, "e1", true), { createOnJoin: true, canRestore: false })).toEqual({
      kind: "lost",
      serverRevision: null,
    });
    // Only a server that creates documents on join recreates them.
    expect(judgeJoin(undefined, claim(5, "e1", true), { createOnJoin: false, canRestore: true })).toEqual({ kind: "not_found" });
  });

  it("in the same epoch, serves a revision the document has and finds it lost (or restores it) when it is behind", () => {
    const doc = { revision: 7, epoch: "e1" };
    expect(judgeJoin(doc, claim(7, "e1"), creates)).toEqual({ kind: "open", revision: 7 });
    expect(judgeJoin(doc, claim(undefined, "e1"), creates)).toEqual({ kind: "open", revision: undefined });
    expect(judgeJoin(doc, claim(9, "e1"), creates)).toEqual({ kind: "lost", serverRevision: 7 });
    expect(judgeJoin(doc, claim(9, "e1", true), creates)).toEqual({ kind: "restore", ifEpoch: "e1" });
  });

  it("serves a client of the epoch the document was restored from, up to the restore point; past it, a snapshot", () => {
    const doc = { revision: 12, epoch: "e2", restoredFrom: { epoch: "e1", revision: 10 } };
    expect(judgeJoin(doc, claim(10, "e1"), creates)).toEqual({ kind: "open", revision: 10 });
    expect(judgeJoin(doc, claim(4, "e1", true), creates)).toEqual({ kind: "open", revision: 4 });
    expect(judgeJoin(doc, claim(11, "e1", true), creates)).toEqual({ kind: "open", revision: undefined });
    expect(judgeJoin(doc, claim(undefined, "e1"), creates)).toEqual({ kind: "open", revision: undefined });
  });

  it("finds any other epoch lost, even at a revision the document has, and never restores over it", () => {
    const doc = { revision: 12, epoch: "e2", restoredFrom: { epoch: "e1", revision: 10 } };
    expect(judgeJoin(doc, claim(3, "e0"), creates)).toEqual({ kind: "lost", serverRevision: 12 });
    expect(judgeJoin(doc, claim(30, "e0", true), creates)).toEqual({ kind: "lost", serverRevision: 12 });
    expect(judgeJoin({ revision: 2, epoch: "fresh" }, claim(1, "e1", true), creates)).toEqual({ kind: "lost", serverRevision: 2 });
  });

  it("without epochs (an older client or backend) keeps the v1 rule", () => {
    expect(judgeJoin({ revision: 3, epoch: undefined }, claim(3, "e1"), creates)).toEqual({ kind: "open", revision: 3 });
    expect(judgeJoin({ revision: 3, epoch: "e1" }, claim(2), creates)).toEqual({ kind: "open", revision: 2 });
    expect(judgeJoin({ revision: 3, epoch: "e1" }, claim(4, undefined, true), creates)).toEqual({ kind: "lost", serverRevision: 3 });
  });
});
