import { describe, expect, it } from "vitest";
import type { SystemName } from "../server-fleet.js";
import { redisFloorRows, type HotDocumentResult } from "./hot-document.js";
import type { LoadRunResult } from "./load-run.js";

function runOf(system: SystemName, clients: number, opsPerSec: number): LoadRunResult {
  return { system, loadClient: "raw", clients, opsPerSec } as LoadRunResult;
}

describe("redisFloorRows", () => {
  it("bounds openot-redis / openot at N=1 by adding the relay's Redis time per op to ours", () => {
    // One instance: 0.2 ms per op. The relay: 0.125 ms, over Redis 0.25 ms, so one Redis round
    // trip costs 0.125 ms and two instances + Redis take at least 0.325 ms per op: 0.615x.
    const result: HotDocumentResult = {
      runs: [runOf("openot", 1, 5000), runOf("openot-redis", 1, 2500), runOf("relay", 1, 8000), runOf("relay-redis", 1, 4000)],
    };
    expect(redisFloorRows(result)).toEqual([["N=1", "0.50x", "0.50x", "0.80x", "0.125", "0.62x"]]);
  });

  it("gives the ratios but no bound at N > 1, and skips an N without both relays", () => {
    const result: HotDocumentResult = {
      runs: [
        runOf("openot", 10, 10_000),
        runOf("openot-redis", 10, 4000),
        runOf("relay", 10, 8000),
        runOf("relay-redis", 10, 6000),
        runOf("relay", 50, 3000),
      ],
    };
    expect(redisFloorRows(result)).toEqual([["N=10", "0.75x", "0.40x", "0.60x", "-", "-"]]);
  });

  it("takes the batching floor as the best floor over Redis when it made more, and only then", () => {
    const runs = [runOf("openot", 10, 10_000), runOf("openot-redis", 10, 4000), runOf("relay", 10, 8000), runOf("relay-redis", 10, 6000)];
    expect(redisFloorRows({ runs: [...runs, runOf("relay-redis-batch", 10, 6500)] })[0]?.[3]).toBe("0.65x");
    expect(redisFloorRows({ runs: [...runs, runOf("relay-redis-batch", 10, 5500)] })[0]?.[3]).toBe("0.60x");
  });

  it("compares servers with the raw client's runs, not the product client's", () => {
    const runs = [runOf("openot", 10, 10_000), runOf("openot-redis", 10, 4000), runOf("relay", 10, 8000), runOf("relay-redis", 10, 6000)];
    const product = { ...runOf("openot", 10, 2000), loadClient: "otclient" } as LoadRunResult;
    expect(redisFloorRows({ runs: [product, ...runs] })).toEqual(redisFloorRows({ runs }));
  });
});
