/** What {@link checkNumberOption} accepts. */
export interface NumberOptionRule {
  /** The smallest value allowed. @default -Infinity */
  min?: number;
  /** Refuse `min` itself too, for "a positive number". @default false */
  aboveMin?: boolean;
  /** The largest value allowed. @default Infinity */
  max?: number;
  /** Whole numbers only (safe integers). @default false */
  integer?: boolean;
  /** Accept `Infinity`, for options where it means "no limit". @default false */
  infinite?: boolean;
}

/**
 * Check a numeric option of one of the @open-ot packages and return it, so that every package
 * refuses a bad value (a typo, `NaN` from a parsed string) at construction with the same kind of
 * message, rather than misbehaving later. Shared by the packages; not meant for applications.
 *
 * @param owner Who takes the option, as the message names it ("Hub", "WebSocketTransport").
 * @param name The option's name as the caller spells it ("frameHoldMs", "backoff.maxDelay").
 * @throws TypeError when `value` is not a number; RangeError when it breaks `rule`.
 */
export function checkNumberOption(owner: string, name: string, value: unknown, rule: NumberOptionRule): number {
  if (typeof value !== "number") throw new TypeError(`${owner}: ${name} must be ${describeRule(rule)}, got ${describeValue(value)}.`);
  if (!obeys(value, rule)) throw new RangeError(`${owner}: ${name} must be ${describeRule(rule)}, got ${String(value)}.`);
  return value;
}

function obeys(value: number, rule: NumberOptionRule): boolean {
  if (value === Infinity && rule.infinite === true) return true;
  if (!Number.isFinite(value)) return false;
  if (rule.integer === true && !Number.isSafeInteger(value)) return false;
  const min = rule.min ?? -Infinity;
  if (rule.aboveMin === true ? value <= min : value < min) return false;
  return value <= (rule.max ?? Infinity);
}

function describeRule(rule: NumberOptionRule): string {
  let text = rule.integer === true ? "an integer" : "a number";
  if (rule.min !== undefined && rule.max !== undefined && rule.aboveMin !== true) text += ` from ${rule.min} to ${rule.max}`;
  else {
    if (rule.min !== undefined) text += rule.aboveMin === true ? ` above ${rule.min}` : ` of at least ${rule.min}`;
    if (rule.max !== undefined) text += ` of at most ${rule.max}`;
  }
  return rule.infinite === true ? `${text}, or Infinity` : text;
}

function describeValue(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- what is left is a primitive or a function, shown as written
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? typeof value : String(value);
}
