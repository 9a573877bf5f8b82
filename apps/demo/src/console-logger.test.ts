import { describe, expect, it } from "vitest";
import { createConsoleLogger } from "./console-logger.js";

describe("createConsoleLogger", () => {
  it("writes warnings and errors, with their context on the same line", () => {
    const lines: string[] = [];
    const logger = createConsoleLogger(false, (level, line) => lines.push(`${level}|${line}`));
    logger.warn?.("redis down", { where: "127.0.0.1:6379", error: new Error("ECONNREFUSED") });
    logger.error?.("failed");
    expect(lines).toEqual(["warn|[warn] redis down (where=127.0.0.1:6379, error=ECONNREFUSED)", "error|[error] failed"]);
  });

  it("leaves out debug and info unless verbose", () => {
    const lines: string[] = [];
    const quiet = createConsoleLogger(false, (_level, line) => lines.push(line));
    expect(quiet.debug).toBeUndefined();
    expect(quiet.info).toBeUndefined();
    const verbose = createConsoleLogger(true, (_level, line) => lines.push(line));
    verbose.info?.("joined", { docId: "d", n: 2 });
    expect(lines).toEqual(["[info] joined (docId=d, n=2)"]);
  });
});
