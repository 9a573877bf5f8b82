// The contract suites and the helpers that need vitest. The helpers they and every test use live in
// @open-ot/harness; they are re-exported here so that `import { waitUntil } from
// "@open-ot/testing"` keeps working.
export * from "./backend-contract.js";
export * from "./connection-tracker.js";
export * from "./pubsub-contract.js";
export * from "./transport-conformance.js";
export * from "./lineage-contract.js";
export * from "./group-commit-contract.js";
export * from "./use-cleanups.js";
export * from "@open-ot/harness";
