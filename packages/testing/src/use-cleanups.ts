import { afterEach } from "vitest";

/** Registers something to undo after the current test. See {@link useCleanups}. */
export type Defer = (cleanup: () => unknown) => void;

/**
 * Cleanups for the tests of one file: call at the file's top level, then `defer(() => x.close())`
 * right after creating `x` in a test. They run after each test, newest first, even when the test
 * failed, so servers and sockets never outlive the test that opened them.
 */
export function useCleanups(): Defer {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}
