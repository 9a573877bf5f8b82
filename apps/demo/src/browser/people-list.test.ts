import type { PeerPresenceView } from "@open-ot/client";
import { describe, expect, it } from "vitest";
import { lineColumn, peopleRows, randomIdentity } from "./people-list.js";

describe("people list", () => {
  it("says line and column from 1, across lines and at the ends", () => {
    const text = "ab\ncde\n\nf";
    expect(lineColumn(text, 0)).toBe("1:1");
    expect(lineColumn(text, 2)).toBe("1:3");
    expect(lineColumn(text, 3)).toBe("2:1");
    expect(lineColumn(text, 6)).toBe("2:4");
    expect(lineColumn(text, 7)).toBe("3:1");
    expect(lineColumn(text, 9)).toBe("4:2");
    expect(lineColumn(text, 99)).toBe("4:2");
  });

  it("lists peers by label with their colour and caret, and without a place when they sent no ranges", () => {
    const peers = new Map<string, PeerPresenceView>([
      ["b1", { author: "b1", label: "Zoe", color: "#f00", ranges: [{ anchor: 0, head: 4 }] }],
      ["a1", { author: "a1", label: "Ann" }],
    ]);
    expect(peopleRows(peers, "one\ntwo")).toEqual([
      { author: "a1", label: "Ann", color: "#888", where: undefined },
      { author: "b1", label: "Zoe", color: "#f00", where: "2:1" },
    ]);
  });

  it("makes a label and a colour", () => {
    const identity = randomIdentity(() => 0);
    expect(identity).toEqual({ label: "Ada 10", color: "#d33682" });
  });
});
