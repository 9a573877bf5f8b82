// Wait for a condition by letting pending promise callbacks and I/O callbacks run; bounded, so
// a test that waits for something that never happens fails instead of hanging.
export async function until(condition: () => boolean, what = "condition", maxTurns = 1000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`until: ${what} did not become true within ${maxTurns} event-loop turns`);
}

/** Let every callback that is already queued run (a few event-loop turns). */
export async function settle(turns = 3): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
