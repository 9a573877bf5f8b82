import { LazyText, type TextOp } from "@open-ot/core";

const doc = LazyText.of("hello").apply([{ r: 5 }, { i: " world" }]);
console.log(doc.length); // 11
// Read from the pending insert, without building the string:
console.log(String.fromCharCode(doc.charCodeAt(6))); // w
// Exactly what TextType.validate(op, doc.toString()) says, without building it either:
const op: TextOp = [{ r: 11 }, { i: "!" }];
console.log(JSON.stringify(doc.validate(op))); // [{"r":11},{"i":"!"}]
console.log(doc.apply(op).toString()); // "hello world!"
