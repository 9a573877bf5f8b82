import { InvalidOpError } from "@open-ot/core";
import { describe, expect, it } from "vitest";
import { insertOp, moveOp, removeOp, replaceOp, editOp } from "ot-json1";
import { createJsonType, JsonType, type JsonDoc } from "./json-type.js";

function refused(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOpError);
    return (error as Error).message;
  }
  throw new Error("expected the op to be refused");
}

/** A JSON text nesting `depth` arrays, parsed as the server parses a message. */
function nestedArrays(depth: number, inner: string): unknown {
  return JSON.parse("[".repeat(depth) + inner + "]".repeat(depth));
}

describe("JsonType", () => {
  it("is named json1 and creates null, or the given document", () => {
    expect(JsonType.name).toBe("json1");
    expect(JsonType.create()).toBeNull();
    const doc = { items: [] };
    expect(JsonType.create(doc)).toBe(doc);
    expect(() => JsonType.create({ at: new Date() } as unknown as JsonDoc)).toThrow(TypeError);
    expect(() => JsonType.create({ n: Number.NaN })).toThrow(TypeError);
  });

  it("applies the builders' ops without touching the input document", () => {
    const doc = { title: "Groceries", items: [{ text: "milk", done: false }], count: 1 };
    const frozen = JSON.stringify(doc);
    const op = [
      insertOp(["items", 1], { text: "eggs", done: false }),
      replaceOp(["items", 0, "done"], false, true),
      editOp(["title"], "text-unicode", [9, " 🛒"]),
      editOp(["count"], "number", 1),
      moveOp(["items", 1], ["items", 0]),
    ].reduce(JsonType.compose, null);
    const after = JsonType.apply(doc, op);
    expect(after).toEqual({
      title: "Groceries 🛒",
      items: [
        { text: "eggs", done: false },
        { text: "milk", done: true },
      ],
      count: 2,
    });
    expect(JSON.stringify(doc)).toBe(frozen);
    expect(JsonType.apply(after, null)).toBe(after);
    expect(JsonType.validate([], after)).toBeNull();
  });

  it("transform never refuses: conflicts are resolved the same way on both sides", () => {
    const doc = { a: { x: 1 } };
    // Both insert at one key: the left op's value stays.
    const left = insertOp(["b"], "left");
    const right = insertOp(["b"], "right");
    const viaLeft = JsonType.apply(JsonType.apply(doc, left), JsonType.transform(right, left, "right"));
    const viaRight = JsonType.apply(JsonType.apply(doc, right), JsonType.transform(left, right, "left"));
    expect(viaLeft).toEqual({ a: { x: 1 }, b: "left" });
    expect(viaRight).toEqual(viaLeft);
    // An edit inside what the other op removed is dropped with it.
    const edit = editOp(["a", "x"], "number", 5);
    const remove = removeOp(["a"]);
    expect(JsonType.transform(edit, remove, "left")).toBeNull();
    expect(JsonType.apply(JsonType.apply(doc, remove), JsonType.transform(edit, remove, "right"))).toEqual({});
  });

  it("inverts with the document, or without it when the op carries what it removes", () => {
    const doc = { a: "text", b: [1, 2] };
    const op = [removeOp(["a"]), insertOp(["b", 2], 3)].reduce(JsonType.compose, null);
    expect(JsonType.apply(JsonType.apply(doc, op), JsonType.invert(op, doc))).toEqual(doc);
    expect(() => JsonType.invert(op)).toThrow(/pass the document/);
    const carrying = replaceOp(["a"], "text", "new");
    expect(JsonType.apply(JsonType.apply(doc, carrying), JsonType.invert(carrying))).toEqual(doc);
  });

  it("size is the JSON text's length with strings unescaped", () => {
    const doc = { list: [1, 2.5, -3, null, true, false, "x"], nested: { "k k": {} } };
    expect(JsonType.size(doc)).toBe(JSON.stringify(doc).length);
    expect(JsonType.size({ s: "a\nb" })).toBe(JSON.stringify({ s: "a\nb" }).length - 1);
    expect(JsonType.size(null)).toBe(4);
  });

  it("size after an op measures only what the op copied", () => {
    const items = Array.from({ length: 2000 }, (_, k) => ({ text: `item ${k}`, done: k % 2 === 0, tags: ["a", "b"] }));
    const doc = { items };
    const before = JsonType.size(doc);
    // Reading every item again would read its `text`; after the op only the new containers are read.
    let reads = 0;
    for (const item of items.slice(0, 1000)) {
      const text = item.text;
      Object.defineProperty(item, "text", { enumerable: true, get: () => (reads++, text) });
    }
    const after = JsonType.apply(doc, insertOp(["items", 2000], { text: "new", done: false, tags: [] }));
    expect(JsonType.size(after)).toBe(before + 1 + JSON.stringify({ text: "new", done: false, tags: [] }).length);
    expect(reads).toBe(0);
  });

  it("validate normalises and checks the op against the document", () => {
    const doc = { a: 1 };
    expect(
      JsonType.validate(
        [
          ["b", { i: 2 }],
          ["a", { r: true }],
        ],
        doc,
      ),
    ).toEqual([
      ["a", { r: true }],
      ["b", { i: 2 }],
    ]);
    expect(refused(() => JsonType.validate(["a", { i: 2 }], doc))).toMatch(/overwrite/);
    expect(refused(() => JsonType.validate(["zz", { r: true }], doc))).toMatch(/remove/);
    expect(refused(() => JsonType.validate([["a", { p: 0 }]], doc))).toMatch(/ot-json1 check/);
  });
});

describe("JsonType refuses hostile input with InvalidOpError, quickly", () => {
  const doc = { a: "xyz", n: 1, list: [1, 2, 3], nested: { deep: true } };

  const cases: [string, () => unknown][] = [
    ["a path 200 000 keys deep", () => nestedArrays(1, Array(200_000).fill('"a"').join(",") + ',{"i":1}')],
    ["child lists nested 100 000 deep", () => nestedArrays(100_000, '"a",{"i":1}')],
    ["a value nested 100 000 deep", () => JSON.parse(`["a2",{"i":${"[".repeat(100_000)}${"]".repeat(100_000)}}]`) as unknown],
    ["500 000 components", () => [["a", { r: true }], ...Array.from({ length: 500_000 }, (_, k) => [`k${k}`, { i: k }])]],
    ["__proto__ as a path key", () => JSON.parse('["__proto__","polluted",{"i":true}]') as unknown],
    ["__proto__ inside an inserted value", () => JSON.parse('["b",{"i":{"__proto__":{"polluted":true}}}]') as unknown],
    ["__proto__ as a component field", () => JSON.parse('["b",{"__proto__":{"i":1}}]') as unknown],
    ["a string-edit skip of 1e300 (a hang in ot-text-unicode)", () => ["a", { es: [1e300, "q"] }]],
    ["a string-edit delete of 2^52", () => ["a", { es: [{ d: 2 ** 52 }] }]],
    ["a string edit that reaches past its string", () => ["a", { es: [2_000_000_000, "q"] }]],
    ["a number edit that overflows to Infinity", () => ["n", { ena: Number.MAX_VALUE }, "list", 0, { ena: Number.MAX_VALUE }]],
    ["a number edit on a string", () => ["a", { ena: 1 }]],
    ["a number edit by a string", () => ["n", { ena: "1" }]],
    ["a number edit on an inherited property", () => ["constructor", { ena: 1 }]],
    [
      "a move of an inherited function into the document",
      () => [
        ["hasOwnProperty", { p: 0 }],
        ["x", { d: 0 }],
      ],
    ],
    ["an embedded type by an inherited name", () => ["a", { et: "constructor", e: 1 }]],
    ["an unknown embedded type", () => ["a", { et: "rich-text", e: [] }]],
    ["removing the whole document", () => [{ r: true }]],
    ["a negative index", () => ["list", -1, { i: 1 }]],
    ["a fractional index", () => ["list", 0.5, { i: 1 }]],
    ["an index past the end", () => ["list", 2 ** 40, { i: 1 }]],
    ["a pick without a drop", () => [["a", { p: 0 }]]],
    ["a drop of nothing", () => ["b", { d: 0 }]],
    ["an unknown component field", () => ["a", { x: 1 }]],
    ["an empty component", () => ["a", {}]],
    ["a bare string", () => "op"],
    ["an object", () => ({ i: 1 })],
  ];

  for (const [name, make] of cases) {
    it(name, () => {
      const op = make();
      const started = performance.now();
      refused(() => JsonType.validate(op, doc));
      refused(() => JsonType.apply(doc, op as never));
      expect(performance.now() - started).toBeLessThan(1000);
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    });
  }

  it("transform and compose refuse malformed ops too, instead of looping", () => {
    refused(() => JsonType.transform(["a", { es: [1e300] }] as never, null, "left"));
    refused(() => JsonType.compose(null, nestedArrays(50_000, '"a",{"i":1}') as never));
    // An embedded no-op is normalised away before ot-json1's conflict resolution sees it.
    expect(JsonType.transform(["a", { es: [] }], ["a", { r: true }], "left")).toBeNull();
  });

  it("limits are options", () => {
    const small = createJsonType({ maxDepth: 3, maxOpNodes: 10 });
    refused(() => small.validate(["a", "b", "c", "d", { i: 1 }], {}));
    refused(() => small.validate(["a", { i: [[[1]]] }], {}));
    refused(() => small.validate(["a", { i: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }], {}));
    expect(small.validate(["a", { i: [[1]] }], {})).toEqual(["a", { i: [[1]] }]);
    expect(() => createJsonType({ maxDepth: 5000 })).toThrow(
      new RangeError("createJsonType: maxDepth must be an integer from 1 to 1000, got 5000."),
    );
    expect(() => createJsonType({ maxOpNodes: 0.5 })).toThrow(RangeError);
    expect(() => createJsonType({ maxDepth: null as unknown as number })).toThrow(TypeError);
    expect(createJsonType({ maxDepth: 1000, maxOpNodes: 1 }).name).toBe("json1");
    expect(() => createJsonType({ name: "" })).toThrow(TypeError);
  });
});

describe("createJsonType({ checkDocument })", () => {
  const todo = createJsonType({
    name: "todo-list",
    checkDocument: (doc) => (Array.isArray((doc as { items?: unknown }).items) ? undefined : "items must stay a list"),
  });

  it("refuses, on the commit path, an op whose document breaks the rule", () => {
    const doc = { items: [] };
    expect(todo.name).toBe("todo-list");
    expect(todo.validate(insertOp(["items", 0], "milk"), doc)).toEqual(["items", 0, { i: "milk" }]);
    expect(refused(() => todo.validate(replaceOp(["items"], [], "gone"), doc))).toMatch(/items must stay a list/);
  });

  it("is not applied by apply, so a client never refuses a committed op with it", () => {
    expect(todo.apply({ items: [] }, replaceOp(["items"], [], "gone"))).toEqual({ items: "gone" });
  });
});
