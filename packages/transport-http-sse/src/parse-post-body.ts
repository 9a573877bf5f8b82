import type { ParamsResult } from "./request-params.js";

/** A POST body that passed the binding's checks: what to hand to the hub, and how many messages it holds. */
export interface PostBody {
  /** One message object, or an array of them. */
  readonly value: object;
  readonly count: number;
}

/**
 * Deepest nesting of arrays and objects a POST body may have. A protocol message is at most 4
 * levels deep (batch array, message, op array, component); the bound keeps hostile bodies
 * (JSON nested 100,000 levels) from reaching code that recurses, such as `JSON.stringify`.
 */
export const MAX_BODY_DEPTH = 32;

/**
 * Check a POST body: JSON, at most {@link MAX_BODY_DEPTH} levels deep, and either one object with
 * a string `type` or a non-empty array of such objects.
 *
 * Anything else is "not a message" and answered with HTTP 400; a body that is an array is
 * refused whole, so no part of a bad batch is applied. What the hub checks (known `type`,
 * required fields, ids, the op) is left to the hub, which answers with `error` events on the
 * stream exactly as it does over WebSocket, where the OT client sees them in order.
 */
export function parsePostBody(text: string): ParamsResult<PostBody> {
  const depth = nestingDepth(text);
  if (depth > MAX_BODY_DEPTH) {
    return bad(`The body is nested ${depth > 1000 ? "more than 1000" : depth} levels deep; a message is at most ${MAX_BODY_DEPTH}.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad("The body is not JSON: send one message object or an array of them, as application/json.");
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return bad("The body is an empty array: send at least one message.");
    for (let i = 0; i < value.length; i++) {
      if (!isMessageShaped(value[i])) {
        return bad(`Element ${i} of the body is not a message (an object with a string "type"); nothing of this body was applied.`);
      }
    }
    return { ok: true, params: { value, count: value.length } };
  }
  if (!isMessageShaped(value)) {
    return bad('The body is not a message: send an object with a string "type" field, or an array of them.');
  }
  return { ok: true, params: { value, count: 1 } };
}

function isMessageShaped(value: unknown): value is { type: string } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === "string";
}

function bad(message: string): ParamsResult<PostBody> {
  return { ok: false, refusal: { status: 400, code: "bad_message", message } };
}

/**
 * The deepest bracket nesting in JSON text, counting only brackets outside strings. Runs in
 * one pass without recursion; stops counting at 1001 so the number stays small.
 */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > 1000) return max;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return max;
}
