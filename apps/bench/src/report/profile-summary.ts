import { readFileSync } from "node:fs";
import { relative } from "node:path";

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that the summary reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Time spent in one function (all its call sites merged). */
export interface ProfileEntry {
  /** `function (file:line)`. */
  readonly name: string;
  /** Milliseconds spent in the function itself. */
  readonly selfMs: number;
  /** Milliseconds spent in it or anything it called (each sample counted once per function). */
  readonly totalMs: number;
}

/** A CPU profile boiled down to where the time went. */
export interface ProfileSummary {
  /** Sampled milliseconds in total, and the share the process was idle. */
  readonly totalMs: number;
  readonly idleMs: number;
  readonly gcMs: number;
  /** Functions by self time, largest first. */
  readonly bySelf: readonly ProfileEntry[];
  /** Functions by inclusive time, largest first. */
  readonly byTotal: readonly ProfileEntry[];
  /** Self time per source file (package files, dependencies, `node:` internals), largest first. */
  readonly byFile: readonly { readonly file: string; readonly selfMs: number }[];
}

function shortUrl(url: string): string {
  if (url === "") return "";
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  const pnpm = path.indexOf("/node_modules/.pnpm/");
  if (pnpm >= 0) {
    const rest = path.slice(pnpm + "/node_modules/.pnpm/".length);
    return rest.slice(rest.indexOf("/node_modules/") + "/node_modules/".length);
  }
  const packages = path.indexOf("/packages/");
  if (packages >= 0) return path.slice(packages + 1);
  return path.startsWith("/") ? relative(process.cwd(), path) : path;
}

/** Summarise a `.cpuprofile` file: self and inclusive time per function. */
export function summariseProfile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nameOf = (id: number): string => {
    const f = byId.get(id)?.callFrame;
    if (f === undefined) return "?";
    const where = shortUrl(f.url);
    return `${f.functionName || "(anonymous)"}${where === "" ? "" : ` (${where}:${f.lineNumber + 1})`}`;
  };
  const fileOf = (id: number): string => {
    const f = byId.get(id)?.callFrame;
    if (f === undefined) return "?";
    return shortUrl(f.url) || f.functionName || "(native)";
  };
  const byFile = new Map<string, number>();
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const own = nameOf(id);
    const file = fileOf(id);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    self.set(own, (self.get(own) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = nameOf(at);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + ms);
    }
  });
  const entries = [...total.keys()].map((name) => ({ name, selfMs: self.get(name) ?? 0, totalMs: total.get(name) ?? 0 }));
  return {
    totalMs,
    idleMs: self.get("(idle)") ?? 0,
    gcMs: self.get("(garbage collector)") ?? 0,
    bySelf: [...entries].sort((a, b) => b.selfMs - a.selfMs),
    byTotal: entries.filter((e) => !e.name.startsWith("(")).sort((a, b) => b.totalMs - a.totalMs),
    byFile: [...byFile.entries()]
      .filter(([file]) => file !== "(idle)")
      .map(([file, selfMs]) => ({ file, selfMs }))
      .sort((a, b) => b.selfMs - a.selfMs),
  };
}

/** The summary as text: the `top` functions by self time and by inclusive time. */
export function formatProfileSummary(file: string, summary: ProfileSummary, top = 25): string {
  const busy = summary.totalMs - summary.idleMs;
  const pct = (ms: number): string => `${((100 * ms) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const lines = [
    `${file}: ${summary.totalMs.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms busy, GC ${summary.gcMs.toFixed(0)} ms (${pct(summary.gcMs).trim()} of busy)`,
    "",
    "self time (share of busy time):",
    ...summary.bySelf
      .filter((e) => e.name !== "(idle)")
      .slice(0, top)
      .map((e) => `  ${pct(e.selfMs)}  ${e.name}`),
    "",
    "inclusive time:",
    ...summary.byTotal.slice(0, top).map((e) => `  ${pct(e.totalMs)}  ${e.name}`),
    "",
    "self time by file:",
    ...summary.byFile.slice(0, top).map((e) => `  ${pct(e.selfMs)}  ${e.file}`),
  ];
  return lines.join("\n");
}
