import { sharedConfig } from "../../vitest.shared.js";

// The smoke test runs the built CLI (dist/run.js) with tiny parameters; allow it the time the
// processes take to start on a busy machine.
export default sharedConfig({ testTimeout: 90_000 });
