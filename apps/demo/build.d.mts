/** esbuild aliases mapping each `@open-ot/<name>` (and `/server`) to its TypeScript source. */
export function sourceAliases(): Promise<Record<string, string>>;
/** Bundle the editor page (editor.js, index.html, editor.css) into `outdir`; resolves to it. @default outdir dist/public */
export function buildEditorPage(outdir?: string): Promise<string>;
