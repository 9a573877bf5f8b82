import { describe, expect, it } from "vitest";
import { DEMO_DEFAULTS, DemoConfigError, demoHelpText, parseDemoConfig, type DemoConfig } from "./demo-config.js";

function run(argv: string[], env: Record<string, string> = {}): DemoConfig {
  const command = parseDemoConfig(argv, env);
  if (command.kind !== "run") throw new Error(`expected a run command, got ${command.kind}`);
  return command.config;
}

describe("parseDemoConfig", () => {
  it("uses the defaults with no flags and no environment", () => {
    expect(run([])).toEqual(DEMO_DEFAULTS);
    expect(DEMO_DEFAULTS.port).toBe(3000);
    expect(DEMO_DEFAULTS.redisUrl).toBeUndefined();
  });

  it("reads every setting from the environment", () => {
    const config = run([], {
      PORT: "3005",
      HOST: "0.0.0.0",
      REDIS_URL: "redis://127.0.0.1:6390",
      DEMO_DOC: "notes:today",
      MAX_MESSAGE_SIZE: "4096",
      RATE_LIMIT: "0",
      RATE_BURST: "7",
      HISTORY_LIMIT: "50",
      STORAGE_TIMEOUT_MS: "1500",
      MAX_DOCUMENTS: "20",
      PUBLIC_DIR: "/srv/page",
    });
    expect(config).toEqual({
      port: 3005,
      host: "0.0.0.0",
      redisUrl: "redis://127.0.0.1:6390",
      redisCluster: undefined,
      defaultDoc: "notes:today",
      maxMessageSize: 4096,
      rateLimit: 0,
      rateBurst: 7,
      historyLimit: 50,
      storageTimeoutMs: 1500,
      maxDocuments: 20,
      publicDir: "/srv/page",
      verbose: false,
    });
  });

  it("lets a flag win over its environment variable, in both --flag value and --flag=value forms", () => {
    const config = run(["--port", "4000", "--doc=other", "--verbose"], { PORT: "3005", DEMO_DOC: "env-doc" });
    expect(config.port).toBe(4000);
    expect(config.defaultDoc).toBe("other");
    expect(config.verbose).toBe(true);
  });

  it("treats an empty environment variable as unset", () => {
    expect(run([], { PORT: "", REDIS_URL: "" })).toMatchObject({ port: 3000, redisUrl: undefined });
  });

  it("reads a Redis Cluster's seed nodes, from the flag or its variable", () => {
    expect(run(["--redis-cluster", "127.0.0.1:7000, redis-b:7001"]).redisCluster).toEqual([
      { host: "127.0.0.1", port: 7000 },
      { host: "redis-b", port: 7001 },
    ]);
    expect(run([], { REDIS_CLUSTER: "10.0.0.5:6379" })).toMatchObject({
      redisCluster: [{ host: "10.0.0.5", port: 6379 }],
      redisUrl: undefined,
    });
  });

  it("accepts port 0 (any free port)", () => {
    expect(run(["--port", "0"]).port).toBe(0);
  });

  it.each([
    [["--port", "70000"], {}, /--port="70000".*0 to 65535/],
    [["--port", "3k"], {}, /--port="3k"/],
    [[], { PORT: "-1" }, /PORT="-1"/],
    [["--max-message-size", "10"], {}, /--max-message-size="10".*from 1024/],
    [["--history", "0"], {}, /--history="0".*from 1/],
    [["--doc", "a/b"], {}, /--doc="a\/b".*document id/],
    [[], { REDIS_URL: "localhost:6379" }, /REDIS_URL="localhost:6379".*redis:\/\//],
    [["--redis-cluster", "127.0.0.1"], {}, /--redis-cluster="127.0.0.1".*host:port/],
    [[], { REDIS_CLUSTER: "a:1,b:70000" }, /REDIS_CLUSTER="a:1,b:70000".*host:port/],
    [["--redis-cluster", "a:1"], { REDIS_URL: "redis://a:2" }, /REDIS_URL and --redis-cluster are both set/],
    [["--nope"], {}, /nope.*--help/],
    [["stray"], {}, /stray.*--help/],
  ] as const)("refuses %j %j, naming what to fix", (argv, env, message) => {
    expect(() => parseDemoConfig(argv, env)).toThrow(DemoConfigError);
    expect(() => parseDemoConfig(argv, env)).toThrow(message);
  });

  it("answers --help with text that names every flag and its variable", () => {
    const command = parseDemoConfig(["--help"], {});
    expect(command.kind).toBe("help");
    const text = command.kind === "help" ? command.text : "";
    for (const [flag, env] of [
      ["--port", "PORT"],
      ["--host", "HOST"],
      ["--redis", "REDIS_URL"],
      ["--redis-cluster", "REDIS_CLUSTER"],
      ["--doc", "DEMO_DOC"],
      ["--max-message-size", "MAX_MESSAGE_SIZE"],
      ["--rate-limit", "RATE_LIMIT"],
      ["--rate-burst", "RATE_BURST"],
      ["--history", "HISTORY_LIMIT"],
      ["--storage-timeout", "STORAGE_TIMEOUT_MS"],
      ["--public-dir", "PUBLIC_DIR"],
    ]) {
      expect(text).toMatch(new RegExp(`${flag}\\s+${env}\\s`));
    }
    expect(text).toBe(demoHelpText());
    expect(text).toContain("[default: 3000]");
  });
});
