import { describe, expect, it } from "vitest";
import { clientCostTargets, formatClientCost, runClientCost } from "./client-cost.js";

describe("runClientCost", () => {
  it("replays the same frames to every client, each ending where the recording did", async () => {
    const lines: string[] = [];
    const result = await runClientCost(
      { clients: [3, 10], frameSize: 12, messages: 3000, rounds: 2, docSize: 200, loadClients: ["otclient", "connection"] },
      (line) => lines.push(line),
    );
    expect(result.rows.map((r) => `${r.clients} ${r.loadClient}`)).toEqual([
      "3 raw",
      "3 otclient",
      "3 connection",
      "10 raw",
      "10 otclient",
      "10 connection",
    ]);
    for (const clients of [3, 10]) {
      const rows = result.rows.filter((r) => r.clients === clients);
      // The trace acks the client's op after a round of the others, and the client sends its
      // next op after the frame that brought the ack: at most one per frame and one per round.
      const own = rows[0]?.submitted ?? 0;
      expect(own).toBeGreaterThan(3000 / (12 + clients) / 2);
      expect(own).toBeLessThanOrEqual(Math.min(3000 / 12, 3000 / clients) + 1);
      // One trace, so every client submitted the same ops at the same points.
      for (const row of rows) expect(row.submitted).toBe(own);
      for (const row of rows) expect(row.usPerMessage).toBeGreaterThan(0);
    }
    expect(result.rows.filter((r) => r.loadClient === "raw").every((r) => r.vsRaw === undefined)).toBe(true);
    expect(clientCostTargets(result)).toHaveLength(4);
    expect(formatClientCost(result)).toMatch(/N=10 connection/);
    expect(lines).toHaveLength(6);
  });
});
