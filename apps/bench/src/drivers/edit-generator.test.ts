import { describe, expect, it } from "vitest";
import { TextType } from "@open-ot/core";
import { seededRandom } from "@open-ot/harness";
import { initialText, makeStamp, nextEdit, parseStamp } from "./edit-generator.js";
import { editToTextOp } from "./openot-load-client.js";

describe("edit generator", () => {
  it("keeps a document at its target size once it got there", () => {
    const random = seededRandom(11);
    let text = initialText(300);
    for (let i = 0; i < 500; i++) {
      const edit = nextEdit(text.length, 300, makeStamp(0, 1_700_000_000_000 + i), random);
      text = TextType.apply(text, editToTextOp(edit));
    }
    expect(text.length).toBe(300);
  });

  it("grows a small document up to the target", () => {
    const random = seededRandom(5);
    let text = "";
    for (let i = 0; i < 10; i++) text = TextType.apply(text, editToTextOp(nextEdit(text.length, 1000, makeStamp(1, i), random)));
    expect(text.length).toBe(10 * makeStamp(1, 0).length);
  });

  it("finds the instance and send time in a stamp inside other text", () => {
    const sentAt = 1_700_000_123_456.789;
    expect(parseStamp(`abc${makeStamp(3, sentAt)}def`)).toEqual({ instance: 3, sentAt });
    expect(parseStamp("no stamp here")).toBeUndefined();
  });
});
