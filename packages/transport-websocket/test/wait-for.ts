import { waitUntil } from "@open-ot/testing";

/**
 * Wait until `condition()` holds, polling every few milliseconds; fails after `timeoutMs`.
 * (@open-ot/testing's `waitUntil`, with this package's argument order.)
 */
export function waitFor(condition: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  return waitUntil(condition, what, timeoutMs);
}
