import { InvalidOpError } from "@open-ot/core";
import { isPlainObject } from "./check-json-op.js";

/** What {@link measureJson} knows of a JSON value. */
export interface JsonMeasure {
  /**
   * The length of the value's JSON text in UTF-16 units, counting each string (and key) as its
   * length plus two quotes, without escapes: `JSON.stringify(value).length` for values whose
   * strings need no escaping, and never more than that.
   */
  readonly size: number;
  /** Nesting: 0 for a primitive, 1 + the deepest child for an array or object. */
  readonly height: number;
}

const PRIMITIVE_NULL: JsonMeasure = { size: 4, height: 0 };

/**
 * Containers already measured. ot-json1 copies every container it changes and shares the rest
 * (documents are immutable), so after an op only the copies along its paths are new: measuring
 * the new document costs what the op touched, not what the document holds.
 */
const measured = new WeakMap<object, JsonMeasure>();

/**
 * Measure a JSON value, checking on the way that it is one (what `JSON.stringify` and
 * `JSON.parse` carry unchanged: null, booleans, finite numbers, strings, arrays without holes,
 * plain objects without a `"__proto__"` key) and nests no deeper than `maxDepth`. Throws an
 * {@link InvalidOpError} otherwise. Recursion stops at `maxDepth` levels.
 */
export function measureJson(value: unknown, maxDepth: number): JsonMeasure {
  const m = measure(value, maxDepth);
  if (m.height > maxDepth) throw new InvalidOpError(`The document would nest deeper than ${maxDepth} levels.`);
  return m;
}

function measure(value: unknown, depthLeft: number): JsonMeasure {
  switch (typeof value) {
    case "string":
      return { size: value.length + 2, height: 0 };
    case "boolean":
      return { size: value ? 4 : 5, height: 0 };
    case "number":
      if (!Number.isFinite(value)) throw new InvalidOpError(`The document would hold ${String(value)}, which JSON cannot carry.`);
      return { size: String(value).length, height: 0 };
    case "object":
      if (value === null) return PRIMITIVE_NULL;
      break;
    default:
      throw new InvalidOpError(
        `The document would hold ${value === undefined ? "undefined" : `a ${typeof value}`}, which is not a JSON value.`,
      );
  }
  const known = measured.get(value);
  if (known !== undefined) return known;
  if (depthLeft <= 0) throw new InvalidOpError(`The document would nest deeper than allowed.`);

  let size = 2;
  let height = 0;
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) {
      if (!(k in value)) throw new InvalidOpError("The document would hold an array with a hole, which is not a JSON value.");
      const child = measure(value[k], depthLeft - 1);
      size += child.size + (k > 0 ? 1 : 0);
      if (child.height > height) height = child.height;
    }
  } else if (isPlainObject(value)) {
    let first = true;
    for (const key of Object.keys(value)) {
      if (key === "__proto__") throw new InvalidOpError(`The document would hold the key "__proto__".`);
      const child = measure(value[key], depthLeft - 1);
      size += key.length + 3 + child.size + (first ? 0 : 1);
      first = false;
      if (child.height > height) height = child.height;
    }
  } else {
    throw new InvalidOpError("The document would hold an object that is not a plain object or array.");
  }
  const result = { size, height: height + 1 };
  measured.set(value, result);
  return result;
}
