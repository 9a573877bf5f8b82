/** The repository's root folder. */
export const repoRoot: string;
/** A fenced block of a Markdown file. */
export interface CodeBlock {
  readonly line: number;
  readonly lang: string;
  /** Whether the language is TypeScript or JavaScript. */
  readonly code: boolean;
  readonly body: string;
  /** The example file the marker above names, relative to the Markdown file. */
  readonly example: string | undefined;
  /** The reason the marker above gives for not running the block. */
  readonly notRun: string | undefined;
}
/** Every README.md of the repository, and every page under docs/. */
export function markdownFiles(root?: string): string[];
/** The fenced blocks of a Markdown text, with the marker on the line above each, if any. */
export function codeBlocks(text: string): CodeBlock[];
/** What breaks the rule, as `file:line: problem` lines. */
export function checkMarkdown(root?: string): string[];
/** Copy every example file into the block that shows it; returns the Markdown files changed. */
export function writeMarkdown(root?: string): string[];
/** Every file of an `examples/` folder: the repository's, and each package's and app's. */
export function exampleFiles(root?: string): string[];
/** What an example says it prints: for each line `console.log(...); // TEXT`, TEXT, in order. */
export function expectedOutput(source: string): string[];
/** Undefined when `stdout` holds each expected line in order; else what is missing. */
export function matchOutput(stdout: string, expected: readonly string[]): string | undefined;
