// node text-ot.mjs, in a project that installed @open-ot/core (in this repository: build the
// package first, `pnpm build`, then `node examples/text-ot.mjs` from packages/core).
import { TextType, diffText, transformCursor, parseClientFrame, errorMessage } from "@open-ot/core";

const doc = "Hello world";

// Two users edit the same revision concurrently.
const alice = diffText(doc, "Hello, world"); // [{r:5},{i:","}]
const bob = diffText(doc, "Hello world!"); // [{r:11},{i:"!"}]

// Alice's op was committed first. The server transforms Bob's op against it with Bob's on the
// right; Bob, whose op is still pending, transforms Alice's incoming op against his on the left.
// Both reach the same text.
const bobAfterAlice = TextType.transform(bob, alice, "right");
const onServer = TextType.apply(TextType.apply(doc, alice), bobAfterAlice);
const aliceAfterBob = TextType.transform(alice, bob, "left");
const onBobsScreen = TextType.apply(TextType.apply(doc, bob), aliceAfterBob);
console.log(onServer, "|", onBobsScreen); // Hello, world! | Hello, world!

// Bob's caret was at the end (11); after Alice's insert it moves to 12.
console.log(transformCursor(11, alice)); // 12

// Undo Alice's edit.
const afterAlice = TextType.apply(doc, alice);
console.log(TextType.apply(afterAlice, TextType.invert(alice, doc))); // Hello world

// A server parses an inbound frame (here a batch of two) before acting on it.
for (const result of parseClientFrame('[{"type":"join","docId":"doc-1"},{"type":"op","op":[],"revision":-1,"seq":1}]')) {
  if (result.ok) console.log("accepted", result.message);
  else console.log("answer", errorMessage(result.error));
}

// Validation names what is wrong.
try {
  TextType.apply("\u{1F600}", [{ r: 1 }, { i: "x" }]);
} catch (error) {
  console.log(error.code, "-", error.message);
}
