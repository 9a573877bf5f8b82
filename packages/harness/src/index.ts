// Helpers shared by tests, the demo and the bench. This entry depends on nothing but Node, so
// every package (core included) can use it without a dependency loop, and it never loads a test
// framework, so the demo and the bench can import it at run time. Page tests import
// `@open-ot/harness/browser-page` (it loads esbuild).
export * from "./chromium.js";
export * from "./fault-proxy.js";
export * from "./free-port.js";
export * from "./prerequisite.js";
export * from "./random-text-edit.js";
export * from "./raw-http.js";
export * from "./redis-cluster.js";
export * from "./redis-server.js";
export * from "./seeded-random.js";
export * from "./wait-until.js";
