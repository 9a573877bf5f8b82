// By path: @open-ot/testing depends on this package, so it cannot be a dependency of it.
import { waitUntil } from "../../testing/src/wait-until.js";

/** How long tests wait for something they expect before failing. */
export const DEADLINE_MS = 5_000;

/**
 * Resolve once `condition()` holds; reject after `timeoutMs`, naming `what`. This waits for an
 * event by polling it (every 2 ms) with a bounded deadline; it never stands in for a fixed sleep.
 */
export function waitFor(condition: () => boolean, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  return waitUntil(condition, what, timeoutMs, 2);
}

/** Let every queued microtask and immediate run (in-process deliveries are microtasks). */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
