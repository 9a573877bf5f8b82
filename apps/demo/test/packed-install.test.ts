// What a browser-side user installs: the packed tarballs of core, client and the WebSocket
// transport, installed with npm into a fresh project outside the workspace, without the server,
// and a client from that project editing a document on the demo server.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { OTClient } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { WebSocketTransport } from "@open-ot/transport-websocket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_DEFAULTS } from "../src/demo-config.js";
import { startDemoServer, type DemoServer } from "../src/demo-server.js";

const run = promisify(execFile);
const PACKAGES_DIR = fileURLToPath(new URL("../../../packages/", import.meta.url));
const PACKED = ["core", "client", "transport-websocket"] as const;

/** The client a user would write, run by node from the fresh project. */
const CLIENT_SCRIPT = `
import { OTClient } from "@open-ot/client";
import { TextType } from "@open-ot/core";
import { WebSocketTransport } from "@open-ot/transport-websocket";

const [url, docId, text] = process.argv.slice(2);
const client = new OTClient({ type: TextType, transport: new WebSocketTransport(url), docId });
await client.connect();
client.submit([{ r: client.snapshot.length }, { i: text }]);
await new Promise((resolve) => client.on("synced", (synced) => synced && resolve()));
console.log(JSON.stringify({ revision: client.revision, snapshot: client.snapshot }));
await client.disconnect();
`;

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports?: Record<string, { types?: string }>;
}

/** The .d.ts files a TypeScript user loads through `entry`, following relative imports. */
async function declarationClosure(entry: string): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    const text = await readFile(file, "utf8");
    seen.set(file, text);
    for (const match of text.matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
      queue.push(resolve(dirname(file), match[1]!.replace(/\.js$/, ".d.ts")));
    }
  }
  return seen;
}

describe("the packed client packages, installed without the server", () => {
  let work: string;
  let app: string;
  let server: DemoServer;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "open-ot-packed-"));
    const tarballs = join(work, "tarballs");
    app = join(work, "app");
    await mkdir(tarballs);
    await mkdir(app);
    // pnpm pack rewrites workspace: ranges into versions, as a publish would.
    for (const name of PACKED) {
      await run("npx", ["-y", "pnpm@9.15.9", "pack", "--pack-destination", tarballs], { cwd: join(PACKAGES_DIR, name), timeout: 60_000 });
    }
    const files = (await readdir(tarballs)).filter((f) => f.endsWith(".tgz")).map((f) => join(tarballs, f));
    expect(files).toHaveLength(PACKED.length);
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "fresh-app", private: true, type: "module" }));
    await writeFile(join(app, "edit.mjs"), CLIENT_SCRIPT);
    // Outside the workspace: npm takes the @open-ot packages from the tarballs and only their
    // third-party dependencies (ws) from the registry.
    await run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", ...files], { cwd: app, timeout: 120_000 });
    server = await startDemoServer({ ...DEMO_DEFAULTS, port: 0, host: "127.0.0.1" });
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it("installs core, client and the transport with ws, and neither @open-ot/server nor its types", async () => {
    const modules = join(app, "node_modules");
    for (const name of PACKED) expect(existsSync(join(modules, "@open-ot", name)), name).toBe(true);
    expect(existsSync(join(modules, "ws")), "ws").toBe(true);
    expect(existsSync(join(modules, "@open-ot", "server")), "@open-ot/server").toBe(false);

    const installed = JSON.parse(await readFile(join(modules, "@open-ot/transport-websocket/package.json"), "utf8")) as PackageJson;
    expect(installed.dependencies ?? {}).not.toHaveProperty("@open-ot/server");
    expect(installed.peerDependencies?.["@open-ot/server"]).toMatch(/^\^\d/);
    expect(installed.peerDependenciesMeta?.["@open-ot/server"]?.optional).toBe(true);

    const types = installed.exports?.["."]?.types;
    expect(types).toBeDefined();
    const declarations = await declarationClosure(join(modules, "@open-ot/transport-websocket", types!));
    for (const [file, text] of declarations) expect(text, file).not.toContain("@open-ot/server");
  });

  it("ships the sources its source maps and declaration maps point to", async () => {
    let maps = 0;
    for (const name of PACKED) {
      const dist = join(app, "node_modules/@open-ot", name, "dist");
      for (const file of (await readdir(dist)).filter((f) => f.endsWith(".map"))) {
        const map = JSON.parse(await readFile(join(dist, file), "utf8")) as { sources: string[]; sourceRoot?: string };
        for (const source of map.sources)
          expect(existsSync(resolve(dist, map.sourceRoot ?? "", source)), `${name}/dist/${file} -> ${source}`).toBe(true);
        maps++;
      }
    }
    expect(maps).toBeGreaterThan(0);
  });

  it("runs a client from that project against the demo server", async () => {
    const docId = "packed-install";
    const { stdout } = await run("node", ["edit.mjs", `ws://127.0.0.1:${server.port}/ws`, docId, "typed from a fresh install"], {
      cwd: app,
      timeout: 20_000,
    });
    const result = JSON.parse(stdout.trim()) as { revision: number; snapshot: string };
    expect(result).toEqual({ revision: 1, snapshot: "typed from a fresh install" });

    // Another client sees the edit: it reached the server, not just the fresh client's view.
    const reader = new OTClient({ type: TextType, transport: new WebSocketTransport(`ws://127.0.0.1:${server.port}/ws`), docId });
    await reader.connect();
    try {
      expect({ revision: reader.revision, snapshot: reader.snapshot }).toEqual(result);
    } finally {
      await reader.disconnect();
    }
  });
});
