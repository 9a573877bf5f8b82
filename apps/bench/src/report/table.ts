/** A plain-text table: the first column left-aligned, the others right-aligned (they hold numbers). */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** A Markdown table (for the README). */
export function formatMarkdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const align = headers.map((_, i) => (i === 0 ? ":--" : "--:"));
  return [headers, align, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** A number for a table: `-` for NaN/undefined, otherwise `digits` decimals (fewer for big values). */
export function num(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 100) return value.toFixed(Math.min(digits, 0));
  return value.toFixed(digits);
}

/** A ratio `a / b` as `2.31x`, `-` when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "-";
  return `${(a / b).toFixed(2)}x`;
}

/** A byte count as KB (1024) with one decimal. */
export function kb(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? "-" : `${(bytes / 1024).toFixed(1)} KB`;
}
