import { InvalidOpError } from "@open-ot/core";
import type { Key } from "ot-json1";

/** Bounds on what one op may hold. */
export interface JsonOpLimits {
  /** Keys on the longest path plus the nesting of the deepest value the op carries. */
  readonly maxDepth: number;
  /** Elements of the op: path keys, components, child lists, and the nodes of its values. */
  readonly maxOpNodes: number;
}

/** What {@link checkJsonOp} learnt about an op while checking it. */
export interface JsonOpFacts {
  /**
   * Code points the op's string edits (`es`) skip or delete in all. Every string an op edits is
   * a distinct string of the document or of the op, so a valid op cannot reach further than the
   * characters of both: `apply` refuses an op that does, before ot-text-unicode walks the counts
   * one code point at a time.
   */
  readonly textReach: number;
  /** UTF-16 units of all the strings the op carries (inserted values, removed values, inserts of `es`). */
  readonly stringUnits: number;
  /** Paths of the number edits (`ena`), in the coordinates of the document after the op. */
  readonly numberEdits: readonly Key[][];
  /** True when some remove does not carry the removed content (`r: true`, or a counted `es` delete). */
  readonly lossy: boolean;
}

const COMPONENT_KEYS: ReadonlySet<string> = new Set(["p", "r", "d", "i", "e", "es", "ena", "et"]);

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Check the shape of an untrusted ot-json1 op before ot-json1 sees it, and refuse with an
 * {@link InvalidOpError} what ot-json1 would mishandle: nesting deep enough to overflow its
 * recursion, more elements than `maxOpNodes`, `__proto__` as a key (a prototype, not data, once
 * copied), values that do not survive `JSON.stringify` (non-finite numbers, `undefined`,
 * functions, class instances), unknown component fields and embedded types, and string-edit
 * counts that are not positive safe integers (ot-text-unicode walks a count one code point at a
 * time, so `1e300` would hang it). ot-json1's own rules (ordering of child lists, matched picks
 * and drops) are checked by ot-json1 afterwards. Recursion is bounded by `maxDepth`.
 */
export function checkJsonOp(op: unknown, limits: JsonOpLimits): JsonOpFacts {
  const checker = new OpChecker(limits);
  if (op !== null) {
    if (!Array.isArray(op)) throw new InvalidOpError(`A JSON op must be null or an array, got ${describe(op)}.`);
    if (op.length > 0) checker.descent(op, [], true);
  }
  return { textReach: checker.textReach, stringUnits: checker.stringUnits, numberEdits: checker.numberEdits, lossy: checker.lossy };
}

class OpChecker {
  textReach = 0;
  stringUnits = 0;
  readonly numberEdits: Key[][] = [];
  lossy = false;
  #nodes = 0;

  constructor(private readonly limits: JsonOpLimits) {}

  descent(list: readonly unknown[], outer: readonly Key[], isRoot: boolean): void {
    this.#count(list.length);
    const path = [...outer];
    for (let index = 0; index < list.length; index++) {
      const item = list[index];
      if (typeof item === "string" || typeof item === "number") {
        this.#key(item, path);
        path.push(item);
        if (path.length > this.limits.maxDepth) {
          throw new InvalidOpError(`The op's path ${describePath(path)} is deeper than ${this.limits.maxDepth} keys.`);
        }
      } else if (Array.isArray(item)) {
        if (item.length === 0) throw new InvalidOpError(`The op has an empty child list under ${describePath(path)}.`);
        if (typeof item[0] !== "string" && typeof item[0] !== "number") {
          throw new InvalidOpError(`A child list of the op must start with a key, under ${describePath(path)}.`);
        }
        this.descent(item, path, false);
      } else if (isPlainObject(item)) {
        this.#component(item, path);
      } else {
        throw new InvalidOpError(
          `Element ${index} of the op's list at ${describePath(path)} must be a key, a component object or a child list, got ${describe(item)}.`,
        );
      }
    }
    if (!isRoot && path.length === outer.length) {
      throw new InvalidOpError(`A child list of the op under ${describePath(outer)} names no key.`);
    }
  }

  #key(key: string | number, path: readonly Key[]): void {
    if (typeof key === "number" && !isCount(key)) {
      throw new InvalidOpError(
        `A list index in the op must be a non-negative safe integer, got ${describe(key)} under ${describePath(path)}.`,
      );
    }
    if (key === "__proto__") throw new InvalidOpError(`"__proto__" cannot be a key of a JSON document (under ${describePath(path)}).`);
    if (typeof key === "string") this.stringUnits += key.length;
  }

  #component(c: Record<string, unknown>, path: readonly Key[]): void {
    const where = describePath(path);
    const keys = Object.keys(c);
    if (keys.length === 0) throw new InvalidOpError(`The op has an empty component at ${where}.`);
    this.#count(keys.length);
    for (const key of keys) {
      if (!COMPONENT_KEYS.has(key)) {
        throw new InvalidOpError(
          `Unknown field ${JSON.stringify(key)} in the op's component at ${where}; a component has p, r, d, i, es, ena, or et with e.`,
        );
      }
    }
    for (const slot of ["p", "d"] as const) {
      if (slot in c && !isCount(c[slot])) {
        throw new InvalidOpError(
          `The ${slot === "p" ? "pick" : "drop"} slot at ${where} must be a non-negative safe integer, got ${describe(c[slot])}.`,
        );
      }
    }
    if ("i" in c) this.#value(c["i"], path.length, `the value inserted at ${where}`);
    if ("r" in c) {
      if (c["r"] === true) this.lossy = true;
      else this.#value(c["r"], path.length, `the removed value at ${where}`);
    }
    const edits = ["es", "ena", "e"].filter((k) => k in c);
    if (edits.length > 1) throw new InvalidOpError(`The component at ${where} holds more than one edit (${edits.join(", ")}).`);
    if ("et" in c !== "e" in c) throw new InvalidOpError(`The component at ${where} must give "e" and "et" together.`);
    const et = c["et"];
    if (et !== undefined && et !== "text-unicode" && et !== "number") {
      throw new InvalidOpError(
        `The embedded type ${describe(et)} at ${where} is not supported; use "text-unicode" (es) or "number" (ena).`,
      );
    }
    if ("es" in c || et === "text-unicode") this.#textEdit("es" in c ? c["es"] : c["e"], where);
    if ("ena" in c || et === "number") {
      const amount = "ena" in c ? c["ena"] : c["e"];
      if (typeof amount !== "number" || !Number.isFinite(amount)) {
        throw new InvalidOpError(`The number edit at ${where} must add a finite number, got ${describe(amount)}.`);
      }
      this.numberEdits.push([...path]);
    }
  }

  /** An ot-text-unicode op: skips (positive integers), inserts (non-empty strings), deletes `{d}`. */
  #textEdit(op: unknown, where: string): void {
    if (!Array.isArray(op)) throw new InvalidOpError(`The string edit at ${where} must be an array, got ${describe(op)}.`);
    this.#count(op.length);
    for (const c of op as unknown[]) {
      if (typeof c === "number") {
        if (!isCount(c) || c === 0)
          throw new InvalidOpError(`A skip in the string edit at ${where} must be a positive safe integer, got ${describe(c)}.`);
        this.textReach += c;
      } else if (typeof c === "string") {
        if (c.length === 0) throw new InvalidOpError(`An insert in the string edit at ${where} is empty.`);
        this.stringUnits += c.length;
      } else if (isPlainObject(c) && Object.keys(c).length === 1 && "d" in c) {
        const d = c["d"];
        if (typeof d === "string" && d.length > 0) {
          this.textReach += d.length;
          this.stringUnits += d.length;
        } else if (isCount(d) && d > 0) {
          this.textReach += d;
          this.lossy = true;
        } else {
          throw new InvalidOpError(
            `A delete in the string edit at ${where} must be {d: n} (n > 0) or {d: "text"}, got d = ${describe(d)}.`,
          );
        }
      } else {
        throw new InvalidOpError(`A string edit component at ${where} must be a count, a string or {d}, got ${describe(c)}.`);
      }
    }
  }

  /** A JSON value nested `depth` keys deep. */
  #value(value: unknown, depth: number, what: string): void {
    this.#count(1);
    switch (typeof value) {
      case "string":
        this.stringUnits += value.length;
        return;
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(value)) throw new InvalidOpError(`${capitalise(what)} holds ${String(value)}, which JSON cannot carry.`);
        return;
      case "object":
        if (value === null) return;
        break;
      default:
        throw new InvalidOpError(`${capitalise(what)} holds ${describe(value)}, which is not a JSON value.`);
    }
    if (depth + 1 > this.limits.maxDepth) {
      throw new InvalidOpError(`${capitalise(what)} nests deeper than ${this.limits.maxDepth} levels into the document.`);
    }
    if (Array.isArray(value)) {
      for (let k = 0; k < value.length; k++) this.#value(value[k], depth + 1, what);
    } else if (isPlainObject(value)) {
      for (const key of Object.keys(value)) {
        if (key === "__proto__")
          throw new InvalidOpError(`${capitalise(what)} has the key "__proto__", which a JSON document cannot hold.`);
        this.stringUnits += key.length;
        this.#value(value[key], depth + 1, what);
      }
    } else {
      throw new InvalidOpError(`${capitalise(what)} holds an object that is not a plain object or array.`);
    }
  }

  #count(n: number): void {
    this.#nodes += n;
    if (this.#nodes > this.limits.maxOpNodes) {
      throw new InvalidOpError(`The op has more than ${this.limits.maxOpNodes} elements; split it into smaller ops.`);
    }
  }
}

function describePath(path: readonly Key[]): string {
  if (path.length === 0) return "the root";
  const shown = path.length > 8 ? [...path.slice(0, 8), "…"] : path;
  return JSON.stringify(shown);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
