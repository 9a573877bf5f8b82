/** How long tests wait for something they expect before failing. */
export const DEADLINE_MS = 5_000;

/**
 * Resolve once `condition()` holds; reject after `timeoutMs`, naming `what`. This waits for an
 * event by polling it with a bounded deadline; it never stands in for a fixed sleep.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    // A short timer rather than setImmediate: polling must not starve the I/O it waits for.
    await new Promise<void>((resolve) => setTimeout(resolve, 2));
  }
}

/** Let every queued microtask and immediate run (in-process deliveries are microtasks). */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
