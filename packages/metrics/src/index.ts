export { createPrometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from "./prometheus-metrics.js";
export { combineMetrics, type CommitOutcome, type ServerMetrics } from "@open-ot/server";
