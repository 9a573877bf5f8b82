/** esbuild aliases mapping each `@open-ot/<name>` (and `/server`) to its TypeScript source. */
export function sourceAliases(): Promise<Record<string, string>>;
/** Bundle the editor page (editor.js, index.html, editor.css) into `outdir`; resolves to it. @default outdir dist/public */
export function buildEditorPage(outdir?: string): Promise<string>;
/** esbuild options for a Node 20 ES-module bundle from the sources, with `extra` merged over them. */
export function nodeBundleOptions<T extends object>(extra: T): Promise<import("esbuild").BuildOptions & T>;
/** Bundle the demo's Node entry points (main.js, scale.js) into `outdir`; resolves to it. @default outdir dist */
export function buildDemoServer(outdir?: string, entries?: readonly string[]): Promise<string>;
