export * from "./ot-type.js";
export * from "./transport.js";
export * from "./codes.js";
export * from "./protocol.js";
export * from "./parse.js";
export * from "./text-type.js";
