import { existsSync } from "node:fs";
import { prerequisite } from "./prerequisite.js";

/** Debian's Chromium (`apt-get install chromium`): the only browser the tests drive; none is ever downloaded. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Options for playwright-core's `chromium.launch()`: Debian's Chromium, headless, with the flags
 * that let it run as root in a container and keep it off the network.
 */
export const chromiumLaunchOptions: { readonly executablePath: string; readonly args: string[] } = {
  executablePath: CHROMIUM_PATH,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
};

/**
 * Whether a browser test can run: false skips it on a developer's machine without Chromium; with
 * CI set, a missing Chromium throws instead (see {@link prerequisite}).
 */
export function chromiumAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return prerequisite(`Chromium at ${CHROMIUM_PATH}`, existsSync(CHROMIUM_PATH), "apt-get install chromium, as .ci/run does", env);
}
