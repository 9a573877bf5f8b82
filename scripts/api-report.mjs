#!/usr/bin/env node
// Runs API Extractor on every api-extractor*.json of the package in the current folder (one per
// entry point). Without --check it writes the reports to api/ (`pnpm api`); with --check it fails
// when the built declarations no longer match the committed reports (`pnpm api:check`).
import { mkdirSync, readdirSync } from "node:fs";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const check = process.argv.includes("--check");
const configs = readdirSync(".").filter((name) => /^api-extractor(\.[a-z-]+)?\.json$/.test(name));
if (configs.length === 0) throw new Error(`api-report: no api-extractor*.json in ${process.cwd()}`);
mkdirSync("api", { recursive: true });
mkdirSync("node_modules/.cache/api-extractor", { recursive: true });

let failed = false;
for (const name of configs) {
  const config = ExtractorConfig.loadFileAndPrepare(name);
  const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false });
  const report = config.reportConfigs[0]?.fileName ?? name;
  if (result.apiReportChanged) {
    if (check) failed = true;
    console.log(`api-report: ${report} ${check ? "differs from the committed report: run pnpm api and commit api/" : "updated"}`);
  }
  if (!result.succeeded) {
    failed = true;
    if (!result.apiReportChanged) console.error(`api-report: ${report}: ${result.errorCount} errors, ${result.warningCount} warnings`);
  }
}
if (failed) process.exitCode = 1;
