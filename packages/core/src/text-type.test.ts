import { describe, expect, it } from "vitest";
import { InvalidOpError } from "./ot-type.js";
import type { TextOp } from "./text-op.js";
import { TextType } from "./text-type.js";

const PAIR = "\u{1F600}";

function deepFreeze(op: TextOp): TextOp {
  for (const c of op) Object.freeze(c);
  return Object.freeze(op) as TextOp;
}

describe("TextType basics", () => {
  it("is named text and creates documents", () => {
    expect(TextType.name).toBe("text");
    expect(TextType.create()).toBe("");
    expect(TextType.create("abc")).toBe("abc");
  });

  it("applies retains, inserts and deletes, with the tail retained implicitly", () => {
    expect(TextType.apply("hello world", [{ r: 6 }, { d: 5 }, { i: "there" }])).toBe("hello there");
    expect(TextType.apply("abc", [{ i: ">" }])).toBe(">abc");
    expect(TextType.apply("abc", [{ r: 3 }, { i: "!" }])).toBe("abc!");
    expect(TextType.apply("abc", [])).toBe("abc");
    expect(TextType.apply("abc", [{ d: 3 }])).toBe("");
    expect(TextType.apply(`a${PAIR}b`, [{ r: 1 }, { d: 2 }, { i: "-" }])).toBe("a-b");
  });

  it("apply refuses what validate refuses", () => {
    const bad: [unknown, string][] = [
      [[{ r: 4 }], "abc"],
      [[{ d: -1 }], "abc"],
      [[{ r: 1 }], PAIR],
      [[{ i: "\uD800" }], ""],
      [[{ r: 1, d: 1 }], "abc"],
      [{ r: 1 }, "abc"],
    ];
    for (const [op, doc] of bad) {
      expect(() => TextType.validate(op, doc)).toThrow(InvalidOpError);
      expect(() => TextType.apply(doc, op as TextOp)).toThrow(InvalidOpError);
    }
  });

  it("validate returns the normal form and checks the fit only with a document", () => {
    expect(TextType.validate([{ r: 2 }, { r: 0 }, { r: 1 }, { i: "" }, { i: "a" }, { i: "b" }, { r: 4 }])).toEqual([{ r: 3 }, { i: "ab" }]);
    expect(TextType.validate([{ r: 100 }])).toEqual([]);
    expect(() => TextType.validate([{ r: 100 }], "short")).toThrow(/past the end of the document \(length 5\)/);
  });
});

describe("TextType.normalize", () => {
  it("drops zero counts, empty inserts and trailing retains, and merges neighbours", () => {
    expect(TextType.normalize([{ r: 0 }, { d: 0 }, { i: "" }])).toEqual([]);
    expect(TextType.normalize([{ d: 1 }, { d: 2 }, { r: 1 }, { r: 1 }, { i: "x" }, { r: 5 }])).toEqual([{ d: 3 }, { r: 2 }, { i: "x" }]);
  });

  it("keeps inserts and deletes in the order given, never moving an insert across a delete", () => {
    expect(TextType.normalize([{ r: 1 }, { d: 2 }, { i: "x" }, { d: 1 }, { i: "y" }])).toEqual([
      { r: 1 },
      { d: 2 },
      { i: "x" },
      { d: 1 },
      { i: "y" },
    ]);
    expect(TextType.normalize([{ d: 1 }, { d: 0 }, { d: 2 }, { i: "" }, { i: "x" }, { i: "y" }])).toEqual([{ d: 3 }, { i: "xy" }]);
  });

  it("does not mutate its input", () => {
    const op = deepFreeze([{ i: "a" }, { i: "b" }, { d: 1 }, { d: 1 }]);
    expect(TextType.normalize(op)).toEqual([{ i: "ab" }, { d: 2 }]);
    expect(op).toEqual([{ i: "a" }, { i: "b" }, { d: 1 }, { d: 1 }]);
  });

  it("refuses malformed ops", () => {
    expect(() => TextType.normalize([{ x: 1 }] as unknown as TextOp)).toThrow(InvalidOpError);
  });
});

describe("TextType.transform", () => {
  const doc = "abcdef";

  it("shifts an op past a concurrent insert before it", () => {
    const a: TextOp = [{ r: 4 }, { d: 1 }];
    const b: TextOp = [{ r: 1 }, { i: "XY" }];
    expect(TextType.transform(a, b, "left")).toEqual([{ r: 6 }, { d: 1 }]);
  });

  it("at an insert tie, the left op's insert goes first", () => {
    const a: TextOp = [{ r: 2 }, { i: "A" }];
    const b: TextOp = [{ r: 2 }, { i: "B" }];
    const aLeft = TextType.transform(a, b, "left");
    const bRight = TextType.transform(b, a, "right");
    expect(aLeft).toEqual([{ r: 2 }, { i: "A" }]);
    expect(bRight).toEqual([{ r: 3 }, { i: "B" }]);
    const viaA = TextType.apply(TextType.apply(doc, a), bRight);
    const viaB = TextType.apply(TextType.apply(doc, b), aLeft);
    expect(viaA).toBe("abABcdef");
    expect(viaB).toBe(viaA);
  });

  it("at an insert tie, the right op's insert goes second", () => {
    const a: TextOp = [{ r: 2 }, { i: "A" }];
    const b: TextOp = [{ r: 2 }, { i: "B" }];
    const aRight = TextType.transform(a, b, "right");
    const bLeft = TextType.transform(b, a, "left");
    expect(aRight).toEqual([{ r: 3 }, { i: "A" }]);
    const result = TextType.apply(TextType.apply(doc, b), aRight);
    expect(result).toBe("abBAcdef");
    expect(TextType.apply(TextType.apply(doc, a), bLeft)).toBe(result);
  });

  it("places an insert after a delete before it: it ties with a concurrent insert at the deleted stretch's end", () => {
    // "[a][c]": Y inserts "[y]" at 3 and is committed first; X, concurrent, deletes "[a]" and
    // then inserts "[x]" at 3. Both insert at 3, so the first committed comes first.
    const y: TextOp = [{ r: 3 }, { i: "[y]" }];
    const x: TextOp = [{ d: 3 }, { i: "[x]" }];
    const base = "[a][c]";
    expect(TextType.apply(TextType.apply(base, y), TextType.transform(x, y, "right"))).toBe("[y][x][c]");
    expect(TextType.apply(TextType.apply(base, x), TextType.transform(y, x, "left"))).toBe("[y][x][c]");
    // Spelled insert-first, X inserts at 0: no tie, and X's text comes first.
    const xFirst: TextOp = [{ i: "[x]" }, { d: 3 }];
    expect(TextType.apply(TextType.apply(base, y), TextType.transform(xFirst, y, "right"))).toBe("[x][y][c]");
  });

  it("keeps inserts inside a range the other op deleted, and drops overlapping deletes", () => {
    const a: TextOp = [{ r: 1 }, { d: 2 }, { r: 1 }, { i: "X" }];
    const b: TextOp = [{ d: 5 }];
    const a2 = TextType.transform(a, b, "left");
    expect(a2).toEqual([{ i: "X" }]);
    expect(TextType.apply(TextType.apply(doc, b), a2)).toBe("Xf");
    const b2 = TextType.transform(b, a, "right");
    expect(TextType.apply(TextType.apply(doc, a), b2)).toBe("Xf");
  });

  it("does not mutate its inputs and refuses malformed ones", () => {
    const a = deepFreeze([{ r: 1 }, { i: "x" }]);
    const b = deepFreeze([{ d: 1 }]);
    TextType.transform(a, b, "left");
    expect(a).toEqual([{ r: 1 }, { i: "x" }]);
    expect(() => TextType.transform([{ r: -2 }], b, "left")).toThrow(InvalidOpError);
    expect(() => TextType.transform(a, [{ q: 1 }] as unknown as TextOp, "left")).toThrow(InvalidOpError);
    expect(() => TextType.transform(a, b, "middle" as "left")).toThrow(/side must be "left" or "right"/);
  });
});

describe("TextType.compose", () => {
  it("keeps the first op's delete before an insert the second op makes at that point", () => {
    expect(TextType.compose([{ d: 5 }], [{ i: "World" }])).toEqual([{ d: 5 }, { i: "World" }]);
    expect(TextType.compose([{ r: 2 }, { d: 1 }], [{ r: 2 }, { i: "x" }, { d: 1 }])).toEqual([{ r: 2 }, { d: 1 }, { i: "x" }, { d: 1 }]);
  });

  it("composes an insert with a later delete of part of it", () => {
    const a: TextOp = [{ r: 1 }, { i: "XYZ" }];
    const b: TextOp = [{ r: 2 }, { d: 1 }];
    const ab = TextType.compose(a, b);
    expect(ab).toEqual([{ r: 1 }, { i: "XZ" }]);
    expect(TextType.apply("abc", ab)).toBe(TextType.apply(TextType.apply("abc", a), b));
  });

  it("keeps the first op's deletes and adds the second's", () => {
    const a: TextOp = [{ d: 1 }];
    const b: TextOp = [{ d: 1 }, { r: 1 }, { i: "!" }];
    expect(TextType.compose(a, b)).toEqual([{ d: 2 }, { r: 1 }, { i: "!" }]);
  });

  it("refuses a second op that cuts a surrogate pair the first inserted", () => {
    expect(() => TextType.compose([{ i: PAIR }], [{ r: 1 }, { d: 1 }])).toThrow(/surrogate pair inserted by the first/);
  });

  it("refuses malformed input", () => {
    expect(() => TextType.compose([{ i: 1 }] as unknown as TextOp, [])).toThrow(InvalidOpError);
  });
});

describe("TextType.invert", () => {
  it("undoes an op given the document it was applied to", () => {
    const doc = `one ${PAIR} two`;
    const op: TextOp = [{ r: 4 }, { d: 2 }, { i: "1" }, { r: 1 }, { d: 3 }, { i: "2" }];
    const after = TextType.apply(doc, op);
    expect(TextType.apply(after, TextType.invert(op, doc))).toBe(doc);
  });

  it("inverts inserts without a document", () => {
    expect(TextType.invert([{ r: 2 }, { i: "abc" }])).toEqual([{ r: 2 }, { d: 3 }]);
  });

  it("throws a clear error when a delete needs the document", () => {
    expect(() => TextType.invert([{ d: 1 }])).toThrow(/pass the document it was applied to/);
  });

  it("refuses an op that does not fit the given document", () => {
    expect(() => TextType.invert([{ d: 5 }], "abc")).toThrow(InvalidOpError);
  });
});
