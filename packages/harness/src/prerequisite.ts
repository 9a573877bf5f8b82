/** True when the process runs in CI (`CI=true` or `CI=1`, as CI services set it). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env["CI"]?.toLowerCase();
  return value === "true" || value === "1";
}

/**
 * Whether a test that needs something outside Node (a browser, a binary) can run here. On a
 * developer's machine a missing prerequisite skips the test; in CI it throws, because a CI run
 * that skips what it was meant to check would pass green without checking it.
 *
 * @param what What the test needs, as a person would name it ("Chromium at /usr/bin/chromium").
 * @param present Whether it is there.
 * @param installHint How to get it ("apt-get install chromium").
 * @returns `present`, so that the caller can write `describe.skipIf(!prerequisite(...))`.
 * @throws Error when it is missing and {@link isCi} holds.
 */
export function prerequisite(what: string, present: boolean, installHint: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!present && isCi(env))
    throw new Error(`${what} is missing and CI is set, so the tests that need it fail instead of skipping: ${installHint}`);
  return present;
}
