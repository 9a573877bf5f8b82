import type { Logger } from "@open-ot/server";

/** Where the demo writes its log lines (the console by default; a collector in tests). */
export type LogSink = (level: "debug" | "info" | "warn" | "error", line: string) => void;

const consoleSink: LogSink = (level, line) => {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
};

/**
 * The demo's logger for the libraries (which never write to the console themselves): errors and
 * warnings always, debug and info lines only with `verbose`. Context values that are errors are
 * shown by their message, so a line stays one line.
 *
 * @param verbose also log debug and info lines @default false
 * @param sink where lines go @default the console (warnings and errors to stderr)
 */
export function createConsoleLogger(verbose = false, sink: LogSink = consoleSink): Logger {
  const write = (level: "debug" | "info" | "warn" | "error") => (message: string, context?: Record<string, unknown>) => {
    sink(level, `[${level}] ${message}${formatContext(context)}`);
  };
  return {
    ...(verbose ? { debug: write("debug"), info: write("info") } : {}),
    warn: write("warn"),
    error: write("error"),
  };
}

function formatContext(context: Record<string, unknown> | undefined): string {
  if (context === undefined) return "";
  const parts = Object.entries(context).map(([key, value]) => `${key}=${describe(value)}`);
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
