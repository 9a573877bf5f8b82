// Every README example is a file, shown verbatim, and runs: see scripts/readme-examples.mjs.
// Examples that talk to `localhost:3000` get a demo server, examples that listen on 3000 a free
// port, examples that use redis://127.0.0.1:6379 a private redis-server: the port numbers in the
// file are replaced before it is bundled (esbuild, from the sources) and run with node.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, extname, join, relative } from "node:path";
import { promisify } from "node:util";
import { freePort, startRedisServer } from "@open-ot/harness";
import { build, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";
import { checkMarkdown, exampleFiles, expectedOutput, matchOutput, repoRoot } from "../../../scripts/readme-examples.mjs";
import { nodeBundleOptions, sourceAliases } from "../build.mjs";
import { DEMO_DEFAULTS } from "../src/demo-config.js";
import { startDemoServer } from "../src/demo-server.js";

const run = promisify(execFile);
const RUN_TIMEOUT_MS = 30_000;

/** Serve `contents` in place of `file` itself, so imports still resolve from its folder. */
function substitute(file: string, contents: string): Plugin {
  return {
    name: "substitute-example",
    setup(b) {
      b.onLoad({ filter: new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) }, () => ({
        contents,
        loader: extname(file) === ".ts" ? "ts" : "js",
        resolveDir: dirname(file),
      }));
    },
  };
}

/** Bundle and run one Node example with what it talks to; resolves to its stdout. */
async function runExample(file: string): Promise<string> {
  const source = await readFile(file, "utf8");
  const cleanups: Array<() => Promise<void>> = [];
  const dir = await mkdtemp(join(tmpdir(), "open-ot-example-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  try {
    let contents = source;
    if (/\b(?:localhost|127\.0\.0\.1):3000\b|\.listen\(3000\b/.test(source)) {
      let port: number;
      if (/\.listen\(/.test(source)) port = await freePort();
      else {
        const demo = await startDemoServer({ ...DEMO_DEFAULTS, port: 0, host: "127.0.0.1" });
        cleanups.push(() => demo.close());
        port = demo.port;
      }
      contents = contents
        .replace(/\b(?:localhost|127\.0\.0\.1):3000\b/g, `127.0.0.1:${port}`)
        .replace(/\.listen\(3000\b/g, `.listen(${port}`);
    }
    if (source.includes("redis://127.0.0.1:6379")) {
      const redis = await startRedisServer();
      cleanups.push(() => redis.stop());
      contents = contents.replaceAll("redis://127.0.0.1:6379", redis.url);
    }
    const outfile = join(dir, "example.mjs");
    await build(await nodeBundleOptions({ entryPoints: [file], outfile, plugins: [substitute(file, contents)], logLevel: "silent" }));
    const env = { ...process.env };
    delete env["REDIS_URL"];
    delete env["OT_TOKEN"];
    try {
      const { stdout } = await run("node", [outfile], { cwd: dir, env, timeout: RUN_TIMEOUT_MS });
      return stdout;
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; killed?: boolean; message: string };
      const why = failed.killed === true ? `did not end within ${RUN_TIMEOUT_MS} ms` : failed.message;
      throw new Error(`${why}\n--- stdout\n${failed.stdout ?? ""}\n--- stderr\n${failed.stderr ?? ""}`);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

describe("README examples", () => {
  it("every TypeScript or JavaScript block of a README is an example file, shown as it is, or says why it does not run", () => {
    expect(checkMarkdown()).toEqual([]);
  });

  for (const file of exampleFiles()) {
    const name = relative(repoRoot, file);
    if (file.endsWith(".browser.ts")) {
      it(`${name} bundles for the browser`, async () => {
        const result = await build({
          entryPoints: [file],
          write: false,
          bundle: true,
          platform: "browser",
          format: "esm",
          target: "es2022",
          alias: await sourceAliases(),
          external: ["ws", "eventsource"],
          logLevel: "silent",
        });
        expect(result.errors).toEqual([]);
      });
    } else {
      it(`${name} runs to its end and prints what its comments say`, async () => {
        const stdout = await runExample(file);
        expect(matchOutput(stdout, expectedOutput(await readFile(file, "utf8"))), stdout).toBeUndefined();
      }, 60_000);
    }
  }
});
