import { checkNumberOption, InvalidOpError, type OTType, type Side } from "@open-ot/core";
import { type as json1, type Doc, type JSONOp, type Key } from "ot-json1";
import { checkJsonOp, describe, type JsonOpFacts, type JsonOpLimits } from "./check-json-op.js";
import { diffJson } from "./diff-json.js";
import { measureJson } from "./measure-json.js";

/** A JSON document: what `JSON.parse` returns (ot-json1's `Doc`). */
export type JsonDoc = Doc;
/** An ot-json1 op: `null` (the no-op) or a list of path keys, components and child lists. */
export type JsonOp = JSONOp;

/** Options of {@link createJsonType}. */
export interface JsonTypeOptions {
  /**
   * The type's name, as it travels in `snapshot.docType`; client and server must agree on it.
   * Give a type with a {@link checkDocument} its own name (say `"todo-list"`).
   * @default "json1"
   */
  name?: string;
  /**
   * Deepest nesting of a document, and of an op's paths plus the values it carries. Bounds the
   * recursion of ot-json1 and of `JSON.stringify` on a stored document. At most 1000.
   * @default 100
   */
  maxDepth?: number;
  /**
   * Most elements in one op: path keys, components, child lists, and the nodes of the values it
   * carries. Bounds the work of transforming an op.
   * @default 100000
   */
  maxOpNodes?: number;
  /**
   * A server-side rule on documents: called by `validate(op, snapshot)` (the server's commit
   * path) with the document the op would produce; return a reason to refuse the op with
   * `invalid_op`, or `undefined` to accept it. Not called by `apply`, so clients never refuse
   * a committed op with it. Must be cheap and a pure function of the document.
   * @default undefined (every JSON document is accepted)
   */
  checkDocument?: (doc: JsonDoc) => string | undefined;
}

/** The JSON OT type: {@link OTType} on ot-json1, with the optional methods it can offer. */
export interface JsonOTType extends OTType<JsonDoc, JsonOp> {
  /** `create(initial)`: `initial` checked as a JSON document, or `null` when not given. */
  create(initial?: JsonDoc): JsonDoc;
  invert(op: JsonOp, snapshot?: JsonDoc): JsonOp;
  normalize(op: JsonOp): JsonOp;
  validate(op: unknown, snapshot?: JsonDoc): JsonOp;
  /** The length of the document's JSON text, strings counted unescaped (see {@link JsonOTType.size}). */
  size(snapshot: JsonDoc): number;
  /** An op turning `from` into `to`; the client uses it to keep local edits across a resync. */
  diff(from: JsonDoc, to: JsonDoc): JsonOp;
}

const DEFAULT_MAX_DEPTH = 100;
const DEFAULT_MAX_OP_NODES = 100_000;

/**
 * A JSON OT type on ot-json1. Documents are JSON values; ops are ot-json1 ops (insert, remove,
 * replace, move, string edits with `es` counted in code points, number edits with `ena`); build
 * them with the re-exported `insertOp`, `removeOp`, `replaceOp`, `moveOp`, `editOp` and
 * `JsonType.compose`. Every function treats its inputs as immutable and returns new values
 * that share what did not change.
 *
 * - `transform` is ot-json1's `transformNoConflict`: it never refuses; conflicts are resolved
 *   the same way on every replica (two inserts at one object key: the left one stays; an edit
 *   inside something the other op removed: removed; a move into a moved-away place: both gone).
 * - `apply` and `validate` refuse with {@link InvalidOpError}: malformed ops, ops that do not
 *   fit the document, ops or documents beyond `maxDepth`/`maxOpNodes`, `__proto__` keys, values
 *   JSON cannot carry (so a stored document always equals the one in memory), number edits on
 *   anything but numbers, and string edits that reach past their string.
 * - `invert(op, snapshot)` needs the document `op` was applied to unless the op carries what it
 *   removes.
 * - `size(doc)` is the length of the document's JSON text with strings counted unescaped;
 *   after an op it costs what the op touched, because measured containers are remembered.
 */
export function createJsonType(options: JsonTypeOptions = {}): JsonOTType {
  const name = options.name ?? "json1";
  if (typeof name !== "string" || name === "") throw new TypeError("createJsonType: name must be a non-empty string");
  const limits: JsonOpLimits = {
    maxDepth: limit(options.maxDepth, DEFAULT_MAX_DEPTH, 1000, "maxDepth"),
    maxOpNodes: limit(options.maxOpNodes, DEFAULT_MAX_OP_NODES, Number.MAX_SAFE_INTEGER, "maxOpNodes"),
  };
  const checkDocument = options.checkDocument;

  /** The last op `validate` applied: the server applies the same op to the same document next. */
  let last: { snapshot: JsonDoc; op: JsonOp; result: JsonDoc } | undefined;

  function facts(op: unknown): JsonOpFacts {
    return checkJsonOp(op, limits);
  }

  function normalizeChecked(op: unknown): JsonOp {
    if (Array.isArray(op) && op.length === 0) return null;
    const normal = guard("normalize", () => json1.normalize(op as JsonOp));
    // ot-json1's own rules (child lists in order, picks matched by drops) on the canonical form.
    guard("check", () => json1.checkValidOp(normal));
    return normal;
  }

  function applyChecked(snapshot: JsonDoc, op: JsonOp, known: JsonOpFacts): JsonDoc {
    if (op === null || (Array.isArray(op) && op.length === 0)) return snapshot;
    if (known.textReach > 0) {
      const budget = measureJson(snapshot, limits.maxDepth).size + known.stringUnits;
      if (known.textReach > budget) {
        throw new InvalidOpError(
          `The op's string edits skip or delete ${known.textReach} characters, more than the document and the op hold.`,
        );
      }
    }
    const result = guard("apply", () => json1.apply(snapshot, op));
    if (result === undefined) throw new InvalidOpError("The op removes the whole document; replace it instead.");
    measureJson(result, limits.maxDepth);
    for (const path of known.numberEdits) {
      const value = valueAt(result, path);
      if (typeof value !== "number") {
        throw new InvalidOpError(`The number edit at ${JSON.stringify(path)} applies to ${describe(value)}, not a number.`);
      }
    }
    return result;
  }

  const type: JsonOTType = {
    name,
    create(initial?: JsonDoc): JsonDoc {
      if (initial === undefined) return null;
      try {
        measureJson(initial, limits.maxDepth);
      } catch (error) {
        throw new TypeError(`JsonType.create: the initial document is not valid: ${(error as Error).message}`);
      }
      return initial;
    },
    apply(snapshot: JsonDoc, op: JsonOp): JsonDoc {
      const cached = last;
      if (cached !== undefined && cached.snapshot === snapshot && cached.op === op) return cached.result;
      return applyChecked(snapshot, op, facts(op));
    },
    transform(op: JsonOp, other: JsonOp, side: Side): JsonOp {
      if (side !== "left" && side !== "right")
        throw new TypeError(`JsonType.transform: side must be "left" or "right", got ${String(side)}.`);
      // Canonical forms first: ot-json1's conflict resolution can loop on ops that are not.
      const a = normalizeChecked((facts(op), op));
      const b = normalizeChecked((facts(other), other));
      return guard("transform", () => json1.transformNoConflict(a, b, side)) ?? null;
    },
    compose(op: JsonOp, next: JsonOp): JsonOp {
      const a = normalizeChecked((facts(op), op));
      const b = normalizeChecked((facts(next), next));
      return guard("compose", () => json1.compose(a, b)) ?? null;
    },
    invert(op: JsonOp, snapshot?: JsonDoc): JsonOp {
      const known = facts(op);
      if (snapshot !== undefined) return guard("invert", () => json1.invertWithDoc(op, snapshot)) ?? null;
      if (known.lossy) {
        throw new TypeError(
          "JsonType.invert: the op removes content it does not carry (r: true, or a counted string delete); pass the document it was applied to as the second argument.",
        );
      }
      return guard("invert", () => json1.invert(op)) ?? null;
    },
    normalize(op: JsonOp): JsonOp {
      facts(op);
      return normalizeChecked(op);
    },
    validate(op: unknown, snapshot?: JsonDoc): JsonOp {
      facts(op);
      const normal = normalizeChecked(op);
      if (snapshot === undefined) return normal;
      const result = applyChecked(snapshot, normal, facts(normal));
      const reason = checkDocument?.(result);
      if (reason !== undefined) throw new InvalidOpError(`The document refuses the op: ${reason}`);
      last = { snapshot, op: normal, result };
      return normal;
    },
    size(snapshot: JsonDoc): number {
      return measureJson(snapshot, limits.maxDepth).size;
    },
    diff(from: JsonDoc, to: JsonDoc): JsonOp {
      return diffJson(from, to);
    },
  };
  return type;
}

/**
 * The JSON OT type with default options (`name: "json1"`). Register it on the server
 * (`server.registerType(JsonType)`, and in `RedisAdapter`'s `types`) and give it to `OTClient`.
 */
export const JsonType: JsonOTType = createJsonType();

function limit(value: number | undefined, fallback: number, max: number, option: string): number {
  return value === undefined ? fallback : checkNumberOption("createJsonType", option, value, { min: 1, max, integer: true });
}

/** Run an ot-json1 function on checked input; what it throws is the op's fault. */
function guard<T>(what: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof InvalidOpError) throw error;
    const reason = error instanceof Error && error.message !== "" ? error.message : "the op does not fit";
    throw new InvalidOpError(`ot-json1 ${what}: ${reason}`);
  }
}

function valueAt(doc: JsonDoc, path: readonly Key[]): unknown {
  let node: unknown = doc;
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<Key, unknown>)[key];
  }
  return node;
}
