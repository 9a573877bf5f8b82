// PLACEHOLDER: the core helper replaces this file with the real text type.
import type { OTType } from "./ot-type.js";

/** A text op component: retain `r` code units, insert `i`, or delete `d` code units. */
export type TextComponent = { r: number } | { i: string } | { d: number };
/** A text op: components applied left to right; the tail after the last is retained. */
export type TextOp = TextComponent[];

/** The plain-text OT type (`docType: "text"`). */
export const TextType: OTType<string, TextOp> = {
  name: "text",
  create: (initial?: string) => initial ?? "",
  apply: () => { throw new Error("not implemented"); },
  transform: () => { throw new Error("not implemented"); },
  compose: () => { throw new Error("not implemented"); },
};
