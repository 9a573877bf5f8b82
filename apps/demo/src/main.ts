/**
 * `node dist/main.js [options]` (`pnpm demo` from the repository root): start the demo server
 * and print its URL. SIGTERM or SIGINT (Ctrl-C) shuts it down gracefully: clients are closed
 * with 1001 and reconnect, to another instance when they were given one.
 */
import { DemoConfigError, parseDemoConfig, type DemoCommand } from "./demo-config.js";
import { createConsoleLogger } from "./console-logger.js";
import { startDemoServer } from "./demo-server.js";

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  let command: DemoCommand;
  try {
    command = parseDemoConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof DemoConfigError)) throw error;
    console.error(`open-ot demo: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  if (command.kind === "help") {
    console.log(command.text);
    return;
  }
  const { config } = command;
  const logger = createConsoleLogger(config.verbose);
  const demo = await startDemoServer(config, { logger });
  const storage =
    demo.backend === "redis" ? "Redis (documents shared with every instance using it)" : "memory (documents are lost on exit)";
  console.log(`OpenOT demo listening on ${demo.url}  (pid ${process.pid}, documents in ${storage})`);
  console.log(`Open ${demo.url}/ in two windows and type; ?doc=NAME for another document, ?transport=sse for Server-Sent Events.`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing connections (1001) and shutting down...`);
    // A client that never finishes its closing handshake must not keep the process alive.
    setTimeout(() => {
      console.error(`Shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway.`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    demo.close().then(
      () => {
        console.log("Stopped.");
        process.exit(0);
      },
      (error: unknown) => {
        console.error("Shutdown failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  console.error(`open-ot demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
