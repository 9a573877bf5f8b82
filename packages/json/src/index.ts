export { createJsonType, JsonType, type JsonDoc, type JsonOp, type JsonOTType, type JsonTypeOptions } from "./json-type.js";
export { diffJson } from "./diff-json.js";
/** ot-json1's op builders, re-exported so that an app needs no second import to make ops. */
export { editOp, insertOp, moveOp, removeOp, replaceOp, type Key, type Path } from "ot-json1";
