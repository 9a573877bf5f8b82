/**
 * Environment variables through which run-wide flags reach the server processes of a run
 * (children inherit the parent's environment). Their own module so that the parent does not
 * load the server's code to name them.
 */

/** `--frame-hold`: the `Hub`'s `frameHoldMs` in every OpenOT server process. */
export const FRAME_HOLD_ENV = "OPENOT_BENCH_FRAME_HOLD_MS";

/** `--server-node-flags`: extra `node` flags for every server process, of every system alike. */
export const SERVER_NODE_FLAGS_ENV = "OPENOT_BENCH_SERVER_NODE_FLAGS";

/** The extra `node` flags of server processes, from {@link SERVER_NODE_FLAGS_ENV}. */
export function serverNodeFlags(): string[] {
  return (process.env[SERVER_NODE_FLAGS_ENV] ?? "").split(/\s+/).filter((flag) => flag !== "");
}
