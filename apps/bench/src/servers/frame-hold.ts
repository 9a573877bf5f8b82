/**
 * The environment variable through which `--frame-hold` reaches every OpenOT server process of
 * a run (children inherit the parent's environment): the `Hub`'s `frameHoldMs`. Its own module
 * so that the parent does not load the server's code to name it.
 */
export const FRAME_HOLD_ENV = "OPENOT_BENCH_FRAME_HOLD_MS";
