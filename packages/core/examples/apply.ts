import { TextType } from "@open-ot/core";

console.log(TextType.apply("hello world", [{ r: 6 }, { d: 5 }, { i: "there" }])); // "hello there"
