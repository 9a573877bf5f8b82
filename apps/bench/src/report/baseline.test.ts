import { describe, expect, it } from "vitest";
import { compareWithBaseline } from "./baseline.js";

describe("compareWithBaseline", () => {
  it("reports relative changes and judges direction by the figure's kind", () => {
    const deltas = compareWithBaseline(
      { "hot/openot/n10/opsPerSec": 1000, "hot/openot/n10/ackP99Ms": 10, "idle/ws/rssPerConnectionBytes": 8000, "gone/opsPerSec": 5 },
      { "hot/openot/n10/opsPerSec": 1500, "hot/openot/n10/ackP99Ms": 12, "idle/ws/rssPerConnectionBytes": 6000, "new/opsPerSec": 7 },
    );
    const byKey = Object.fromEntries(deltas.map((d) => [d.key, d]));
    expect(Object.keys(byKey).sort()).toEqual(["hot/openot/n10/ackP99Ms", "hot/openot/n10/opsPerSec", "idle/ws/rssPerConnectionBytes"]);
    expect(byKey["hot/openot/n10/opsPerSec"]).toMatchObject({ change: 0.5, better: true });
    expect(byKey["hot/openot/n10/ackP99Ms"]?.better).toBe(false);
    expect(byKey["idle/ws/rssPerConnectionBytes"]?.better).toBe(true);
  });
});
