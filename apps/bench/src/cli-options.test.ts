import { describe, expect, it } from "vitest";
import { parseCliOptions, SCENARIOS } from "./cli-options.js";

describe("parseCliOptions", () => {
  it("runs the standard set with the issue's defaults when given nothing", () => {
    const o = parseCliOptions([]);
    expect(o.command).toBe("run");
    expect(o.scenarios).toEqual(SCENARIOS);
    expect(o.clients).toBeUndefined();
    expect(o.systems).toEqual(["openot", "openot-redis", "sharedb", "relay", "relay-redis", "relay-redis-batch"]);
    expect([o.ws, o.sse, o.batch]).toEqual([10_000, 2000, true]);
  });

  it("takes one scenario with its parameters", () => {
    const o = parseCliOptions(["hot", "--clients", "50", "--seconds", "10", "--systems", "openot,relay", "--no-batch"]);
    expect(o.scenarios).toEqual(["hot"]);
    expect(o.clients).toEqual([50]);
    expect(o.seconds).toBe(10);
    expect(o.systems).toEqual(["openot", "relay"]);
    expect(o.batch).toBe(false);
  });

  it("takes the server's frame hold in milliseconds, 0 included, and leaves it to the Hub by default", () => {
    expect(parseCliOptions([]).frameHoldMs).toBeUndefined();
    expect(parseCliOptions(["--frame-hold", "0"]).frameHoldMs).toBe(0);
    expect(parseCliOptions(["--frame-hold", "2.5"]).frameHoldMs).toBe(2.5);
    expect(() => parseCliOptions(["--frame-hold", "-1"])).toThrow(/--frame-hold/);
    expect(parseCliOptions(["--server-node-flags=--max-semi-space-size=2"]).serverNodeFlags).toBe("--max-semi-space-size=2");
  });

  it("makes OpenOT's load with the raw client unless told, and with each client named", () => {
    expect(parseCliOptions([]).loadClients).toEqual(["raw"]);
    expect(parseCliOptions(["hot", "--load-client", "raw,otclient,connection"]).loadClients).toEqual(["raw", "otclient", "connection"]);
    expect(() => parseCliOptions(["--load-client", "yjs"])).toThrow(/--load-client: unknown client yjs/);
  });

  it("runs attack only when it is named", () => {
    expect(parseCliOptions([]).scenarios).not.toContain("attack");
    expect(parseCliOptions(["attack", "--attack-seconds", "3"])).toMatchObject({ scenarios: ["attack"], attackSeconds: 3 });
  });

  it("refuses unknown scenarios, systems and bad numbers with a message naming them", () => {
    expect(() => parseCliOptions(["hott"])).toThrow(/unknown scenario hott/);
    expect(() => parseCliOptions(["--systems", "yjs"])).toThrow(/unknown system yjs/);
    expect(() => parseCliOptions(["--large-systems", "relay-redis"])).toThrow(
      /unknown system relay-redis; choose from openot, openot-redis/,
    );
    expect(() => parseCliOptions(["--clients", "10,x"])).toThrow(/--clients/);
    expect(() => parseCliOptions(["--seconds", "0"])).toThrow(/--seconds/);
    expect(() => parseCliOptions(["--warmup=-1"])).toThrow('--warmup takes a number ≥ 0, got "-1"');
    expect(() => parseCliOptions(["--warmup", "x"])).toThrow(/--warmup/);
    expect(parseCliOptions(["--warmup", "0"]).warmupSeconds).toBe(0);
    expect(parseCliOptions([]).warmupSeconds).toBe(1);
  });

  it("paces large-doc at 500 ops/s unless told otherwise; 0 means unpaced", () => {
    expect(parseCliOptions([]).largeRate).toBe(500);
    expect(parseCliOptions(["large-doc", "--large-rate", "0"]).largeRate).toBe(0);
    expect(parseCliOptions(["large-doc", "--large-rate", "2000"]).largeRate).toBe(2000);
    expect(() => parseCliOptions(["--large-rate", "-1"])).toThrow(/--large-rate/);
  });

  it("recognises the profile command and its files", () => {
    const o = parseCliOptions(["profile", "a.cpuprofile", "b.cpuprofile"]);
    expect(o.command).toBe("profile");
    expect(o.files).toEqual(["a.cpuprofile", "b.cpuprofile"]);
  });
});
