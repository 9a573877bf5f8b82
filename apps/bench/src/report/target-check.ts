/** One target of the issue and whether this run met it. */
export interface TargetCheck {
  /** What is compared, in words ("N=10 ops/s vs ShareDB"). */
  readonly name: string;
  /** The target ("≥ 2x"). */
  readonly target: string;
  /** What was measured ("2.4x"). */
  readonly measured: string;
  /** Met; `null` when the run lacked a figure to judge (a system was left out). */
  readonly met: boolean | null;
}

/** Build a check from a measured value and a predicate; `null` when the value is missing. */
export function check(
  name: string,
  target: string,
  value: number | undefined,
  measured: (v: number) => string,
  ok: (v: number) => boolean,
): TargetCheck {
  if (value === undefined || !Number.isFinite(value)) return { name, target, measured: "-", met: null };
  return { name, target, measured: measured(value), met: ok(value) };
}

/** `yes`, `NO`, or `n/a`. */
export function metLabel(met: boolean | null): string {
  return met === null ? "n/a" : met ? "yes" : "NO";
}
