// Reading fields of an untrusted JSON object: the common vocabulary of the message parsers.

/** An untrusted JSON object (not null, not an array). */
export type UntrustedObject = Readonly<Record<string, unknown>>;

/** True for an object that can be a message: not null and not an array. */
export function isMessageObject(value: unknown): value is UntrustedObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * True when `obj` has its own field `key`. `null` counts as present (it is a value of the wrong
 * type, never the same as a missing field); `undefined` counts as missing, as `JSON.stringify`
 * would leave it out. Own fields only, so nothing is read from a prototype.
 */
export function has(obj: UntrustedObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key) && obj[key] !== undefined;
}

/** A short description of an untrusted value for error messages (never echoes long input). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
    case "number":
    case "boolean":
      return String(value);
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}
