// Test support: an OTType for our text ops ({r}/{i}/{d}) whose transform and compose are
// ot-text-unicode's (the text type ShareDB uses), an implementation written independently of
// ours and from the same tie rule. A client built on it stands for a third-party client written
// from docs/protocol.md. Only for BMP text: ot-text-unicode counts code points, we count UTF-16
// code units, and the two agree only without surrogate pairs.
import type { OTType, Side, TextComponent, TextOp } from "@open-ot/core";
import otText from "ot-text-unicode";

type ReferenceOp = (number | string | { d: number | string })[];
const reference = otText.type;

function toReference(op: readonly TextComponent[]): ReferenceOp {
  return reference.normalize(op.map((c) => ("r" in c ? c.r : "i" in c ? c.i : { d: c.d })));
}

function fromReference(op: ReferenceOp): TextOp {
  return op.map((c) => {
    if (typeof c === "number") return { r: c };
    if (typeof c === "string") return { i: c };
    return { d: typeof c.d === "number" ? c.d : c.d.length };
  });
}

/** The text type as a client written on ot-text-unicode would run it. */
export const OtTextUnicodeType: OTType<string, TextOp> = {
  name: "text",
  create: (initial?: string) => initial ?? "",
  apply: (doc: string, op: TextOp) => reference.apply(doc, toReference(op)),
  transform: (op: TextOp, other: TextOp, side: Side) => fromReference(reference.transform(toReference(op), toReference(other), side)),
  compose: (a: TextOp, b: TextOp) => fromReference(reference.compose(toReference(a), toReference(b))),
};
