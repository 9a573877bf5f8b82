// Test support shared by the randomized text tests of core and server: random "steps" read as
// an op over whole characters (code points), so a generated op never splits a surrogate pair.
// Each test keeps its own step arbitrary (sizes differ); only the reading of steps is shared.
import type { TextComponent, TextOp } from "../src/text-op.js";

/** One random step: retain or delete `chars` whole characters, or insert `insert`. */
export type Step = { kind: "r" | "d" | "i"; chars: number; insert: string };

/** Interpret random steps as an op on `base`, counting whole characters so pairs stay whole. */
export function opFromSteps(base: string, steps: readonly Step[]): TextOp {
  const chars = Array.from(base);
  let at = 0;
  const op: TextComponent[] = [];
  for (const s of steps) {
    if (s.kind === "i") {
      op.push({ i: s.insert });
      continue;
    }
    const n = Math.min(s.chars, chars.length - at);
    const units = chars.slice(at, at + n).join("").length;
    at += n;
    op.push(s.kind === "r" ? { r: units } : { d: units });
  }
  return op;
}
