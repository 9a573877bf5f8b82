import type { ReconnectingStatus } from "@open-ot/transport-reconnecting";
import { describe, expect, it } from "vitest";
import { connectionLabel } from "./connection-label.js";

const base: ReconnectingStatus = {
  state: "open",
  attempt: 0,
  nextRetryAt: undefined,
  lastCloseCode: undefined,
  lastCloseReason: undefined,
};

describe("connectionLabel", () => {
  it("says connected while open", () => {
    expect(connectionLabel(base, 0)).toEqual({ text: "connected", tone: "ok" });
  });

  it("counts down to the next retry in whole seconds, rounding up", () => {
    const status = { ...base, state: "reconnecting", attempt: 2, nextRetryAt: 10_000 } as const;
    expect(connectionLabel(status, 7_001)).toEqual({ text: "reconnecting in 3 s", tone: "waiting" });
    expect(connectionLabel(status, 9_999)).toEqual({ text: "reconnecting in 1 s", tone: "waiting" });
    expect(connectionLabel(status, 10_000)).toEqual({ text: "reconnecting…", tone: "waiting" });
    expect(connectionLabel({ ...status, state: "connecting" }, 5_000)).toEqual({ text: "connecting in 5 s", tone: "waiting" });
  });

  it("says an attempt is under way when none is scheduled", () => {
    expect(connectionLabel({ ...base, state: "reconnecting", attempt: 1 }, 0).text).toBe("reconnecting…");
    expect(connectionLabel({ ...base, state: "connecting", attempt: 1 }, 0).text).toBe("connecting…");
  });

  it("says offline, with the reason when there is one", () => {
    expect(connectionLabel({ ...base, state: "closed" }, 0)).toEqual({ text: "offline", tone: "offline" });
    expect(connectionLabel({ ...base, state: "closed", lastCloseCode: 4003, lastCloseReason: "token revoked" }, 0).text).toBe(
      "offline: token revoked",
    );
  });
});
