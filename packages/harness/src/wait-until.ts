/**
 * Resolve once `condition()` (which may be async) holds; reject after `timeoutMs`, naming
 * `what`. This waits for an event by polling it with a bounded deadline; it never stands in
 * for a fixed sleep. The deadline is read from `performance.now()`, so a test that fakes
 * `Date` still gets a real one.
 *
 * @param timeoutMs How long to wait before failing. @default 5000
 * @param intervalMs How long to wait between two checks. @default 5
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5_000,
  intervalMs = 5,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    // A short timer rather than setImmediate: polling must not starve the I/O it waits for.
    await new Promise<void>((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Let the callbacks already queued run: `turns` turns of the event loop. For asserting that
 * something did NOT happen after in-process deliveries (microtasks and immediates) had their
 * chance; to wait for something that should happen, use {@link waitUntil}.
 *
 * @param turns How many event-loop turns to yield. @default 1
 */
export async function settle(turns = 1): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
