/**
 * Wait until `condition()` holds, polling every few milliseconds; fails after `timeoutMs`.
 * Uses performance.now(), so a test that fakes Date still gets a real deadline.
 */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
