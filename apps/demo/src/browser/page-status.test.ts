import type { OTClientStatus } from "@open-ot/client";
import type { ReconnectingStatus } from "@open-ot/transport-reconnecting";
import { describe, expect, it } from "vitest";
import { pageStatus, type PageStatusInput } from "./page-status.js";

const open: ReconnectingStatus = {
  state: "open",
  attempt: 0,
  nextRetryAt: undefined,
  lastCloseCode: undefined,
  lastCloseReason: undefined,
};
const live: OTClientStatus = { state: "live", reason: "connected" };
const base: PageStatusInput = { transport: open, client: live, synced: true, restored: undefined, storageReachable: true, now: 10_000 };

describe("pageStatus", () => {
  it("says connected only while edits are being committed", () => {
    expect(pageStatus(base)).toEqual({ pill: { text: "connected", tone: "ok" }, sync: { text: "saved", saved: true }, banner: undefined });
    expect(pageStatus({ ...base, synced: false }).sync).toEqual({ text: "sending…", saved: false });
    // /healthz says the storage is unreachable: not "connected", and a banner says why.
    const noStorage = pageStatus({ ...base, storageReachable: false });
    expect(noStorage.pill).toEqual({ text: "server cannot save", tone: "waiting" });
    expect(noStorage.banner?.text).toMatch(/cannot reach its storage/);
    for (const client of [
      { state: "joining", reason: "", restoring: false },
      { state: "waiting", reason: "", code: "unavailable", attempt: 1, nextRetryAt: 12_000 },
      { state: "refused", reason: "no.", code: "forbidden", action: "Sign in." },
      { state: "lost", reason: "", serverRevision: null, revision: 3, restorable: false, unacknowledged: true },
    ] as OTClientStatus[]) {
      expect(pageStatus({ ...base, client }).pill.text).not.toBe("connected");
    }
    expect(pageStatus({ ...base, transport: { ...open, state: "reconnecting", attempt: 2, nextRetryAt: 13_000 } }).pill.text).toBe(
      "reconnecting in 3 s",
    );
  });

  it("while the server cannot save: says so, that edits are kept, when it tries again, and offers to retry now", () => {
    const status = pageStatus({
      ...base,
      synced: false,
      client: { state: "waiting", reason: "", code: "unavailable", attempt: 3, nextRetryAt: 12_500 },
    });
    expect(status.pill).toEqual({ text: "not saving", tone: "waiting" });
    expect(status.sync).toEqual({ text: "not saved yet", saved: false });
    expect(status.banner).toEqual({
      text: "The server cannot save right now: its storage is unreachable. Your edits are kept in this tab and will be sent as soon as it can. Next try in 3 s.",
      tone: "warning",
      button: "retry",
    });
  });

  it("while the connection is down: says edits are kept and offers to retry now; no banner on a page's first attempt", () => {
    const down = pageStatus({ ...base, synced: false, transport: { ...open, state: "reconnecting", attempt: 1, nextRetryAt: 11_000 } });
    expect(down.sync).toEqual({ text: "not saved yet", saved: false });
    expect(down.banner).toMatchObject({
      tone: "warning",
      button: "retry",
      text: expect.stringMatching(/connection to the server was lost.*kept.*Next try in 1 s/),
    });
    expect(pageStatus({ ...base, transport: { ...open, state: "connecting", attempt: 1 } }).banner).toBeUndefined();
    expect(pageStatus({ ...base, transport: { ...open, state: "closed", lastCloseReason: "token revoked" } }).banner).toMatchObject({
      tone: "error",
      text: expect.stringMatching(/Disconnected from the server \(token revoked\)/),
    });
  });

  it("tells of a lost document being restored, and of how it came back", () => {
    expect(pageStatus({ ...base, client: { state: "joining", reason: "", restoring: true } }).banner?.text).toMatch(
      /lost this document.*Restoring it from your copy/,
    );
    expect(pageStatus({ ...base, restored: { outcome: "restored", revision: 4, previousRevision: 4 } }).banner).toEqual({
      text: "The server had lost this document; it was restored from your copy.",
      tone: "info",
      button: "dismiss",
    });
    expect(pageStatus({ ...base, restored: { outcome: "rebased", revision: 4, previousRevision: 3 } }).banner?.text).toMatch(
      /another person's copy/,
    );
    const replaced = pageStatus({
      ...base,
      client: { state: "lost", reason: "", serverRevision: 2, revision: 9, restorable: false, unacknowledged: true },
    });
    expect(replaced.banner).toMatchObject({
      tone: "error",
      button: "adopt",
      text: expect.stringMatching(/created anew.*copy what you need/),
    });
    expect(replaced.sync).toEqual({ text: "not saved", saved: false });
  });
});
