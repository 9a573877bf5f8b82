// README examples are files: every fenced TypeScript or JavaScript block of a README (or a page
// under docs/) either shows a file of an `examples/` folder, announced by a marker on the line
// above the fence, or is marked as not meant to run:
//
//   <!-- example: examples/quick-start.ts -->      the block must equal that file (path relative
//   ```ts                                            to the Markdown file)
//   ...
//   ```
//
//   <!-- not-run: a signature, not a program -->    anything else, with the reason
//
// An example states what it prints in a comment at the end of the line that prints it,
// `console.log(x); // 12`, and the test checks that: so write nothing else there.
//
// `node scripts/readme-examples.mjs` lists the blocks that break this rule (exit code 1 if any);
// `--write` copies each example file into its block. apps/demo/test/readme-examples.test.ts runs
// the check and every example file: a `*.browser.ts` example is bundled for the browser, every
// other one bundled for Node and run to its end.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The fence languages that hold code a reader could run. */
const CODE_LANGS = new Set(["ts", "typescript", "tsx", "js", "javascript", "mjs"]);
const EXAMPLE = /^<!-- example: (\S+) -->$/;
const NOT_RUN = /^<!-- not-run: (.+\S) -->$/;
const SKIP_DIRS = new Set(["node_modules", "dist", ".git", ".turbo", ".changeset", "results"]);

/** Every README.md of the repository, and every page under docs/. */
export function markdownFiles(root = repoRoot) {
  const found = [];
  const walk = (dir, all) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIP_DIRS.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, all || entry.name === "docs");
      else if (entry.name === "README.md" || (all && entry.name.endsWith(".md"))) found.push(path);
    }
  };
  walk(root, false);
  return found.sort();
}

/** The fenced blocks of a Markdown text, with the marker on the line above each, if any. */
export function codeBlocks(text) {
  const lines = text.split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (open === null) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith("```"));
    if (end < 0) break;
    const above = (lines[i - 1] ?? "").trim();
    const example = EXAMPLE.exec(above);
    const notRun = NOT_RUN.exec(above);
    blocks.push({
      line: i + 1,
      lang: open[1],
      code: CODE_LANGS.has(open[1]),
      body: lines.slice(i + 1, end).join("\n"),
      example: example?.[1],
      notRun: notRun?.[1],
      start: i + 1,
      end,
    });
    i = end;
  }
  return blocks;
}

/** What breaks the rule, as `file:line: problem` lines. */
export function checkMarkdown(root = repoRoot) {
  const problems = [];
  for (const file of markdownFiles(root)) {
    const where = (block) => `${relative(root, file)}:${block.line}`;
    for (const block of codeBlocks(readFileSync(file, "utf8"))) {
      if (block.example !== undefined) {
        const path = resolve(dirname(file), block.example);
        if (!existsSync(path)) problems.push(`${where(block)}: ${block.example} does not exist`);
        else if (readFileSync(path, "utf8").trimEnd() !== block.body.trimEnd()) {
          problems.push(
            `${where(block)}: the block differs from ${block.example} (node scripts/readme-examples.mjs --write copies the file in)`,
          );
        }
      } else if (block.code && block.notRun === undefined) {
        problems.push(
          `${where(block)}: a ${block.lang} block that is neither an example file (<!-- example: examples/NAME -->) nor marked <!-- not-run: REASON -->`,
        );
      }
    }
  }
  return problems;
}

/** Copy every example file into the block that shows it; returns the Markdown files changed. */
export function writeMarkdown(root = repoRoot) {
  const changed = [];
  for (const file of markdownFiles(root)) {
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    // Last block first, so that earlier line numbers stay valid.
    for (const block of codeBlocks(text).reverse()) {
      if (block.example === undefined) continue;
      const path = resolve(dirname(file), block.example);
      if (!existsSync(path)) continue;
      lines.splice(block.start, block.end - block.start, ...readFileSync(path, "utf8").trimEnd().split("\n"));
    }
    const next = lines.join("\n");
    if (next !== text) {
      writeFileSync(file, next);
      changed.push(relative(root, file));
    }
  }
  return changed;
}

/** Every file of an `examples/` folder: the repository's, and each package's and app's. */
export function exampleFiles(root = repoRoot) {
  const dirs = [join(root, "examples")];
  for (const group of ["packages", "apps"]) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { withFileTypes: true })) if (entry.isDirectory()) dirs.push(join(base, entry.name, "examples"));
  }
  return dirs
    .filter((dir) => existsSync(dir))
    .flatMap((dir) =>
      readdirSync(dir)
        .filter((name) => /\.(ts|mjs|js)$/.test(name))
        .map((name) => join(dir, name)),
    )
    .sort();
}

/**
 * What an example says it prints: for each line `console.log(...); // TEXT`, TEXT, in order.
 * A string printed by console.log may be written with or without its quotes.
 */
export function expectedOutput(source) {
  return [...source.matchAll(/^\s*console\.log\(.*\);\s*\/\/ (.+)$/gm)].map((m) => m[1].trim());
}

/** Whether `stdout` holds each expected line, in order (each on a line of its own). */
export function matchOutput(stdout, expected) {
  const lines = stdout.split("\n").map((line) => line.trim());
  let at = 0;
  for (const want of expected) {
    const found = lines.findIndex((line, i) => i >= at && (line === want || JSON.stringify(line) === want));
    if (found < 0) return `missing, after stdout line ${at}: ${want}`;
    at = found + 1;
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--write")) {
    for (const file of writeMarkdown()) console.log(`updated ${file}`);
  }
  const problems = checkMarkdown();
  for (const problem of problems) console.error(problem);
  process.exitCode = problems.length > 0 ? 1 : 0;
}
