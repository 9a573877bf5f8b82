import { SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { checkNumberOption } from "@open-ot/core";
import type { ServerMetrics } from "@open-ot/server";
import { AckClock } from "./ack-clock.js";

/** Options of {@link createTracingMetrics}. */
export interface TracingMetricsOptions {
  /** The tracer spans are made with. @default trace.getTracer("@open-ot/server") (the global provider's) */
  readonly tracer?: Tracer;
  /** Commits remembered until their ack is delivered, for the delivery spans (the oldest is forgotten past it). @default 10000 */
  readonly maxTrackedCommits?: number;
}

/**
 * A {@link ServerMetrics} sink that makes OpenTelemetry spans, with `@opentelemetry/api` only
 * (bring your own SDK and exporter; without one, the API's no-op tracer costs next to
 * nothing):
 *
 * - `openot.commit` around every submit, with `openot.doc_id`, and `openot.revision` when
 *   committed, `openot.duplicate` for a duplicate, `openot.refusal` (the error code) for a
 *   refused op; an error status only for failures that are not refusals.
 * - `openot.deliver` from sending a commit to the store to delivering its `ack`, when both happen
 *   in this process.
 *
 * Combine it with the Prometheus sink with `combineMetrics` of @open-ot/server.
 */
export function createTracingMetrics(options: TracingMetricsOptions = {}): ServerMetrics {
  const tracer = options.tracer ?? trace.getTracer("@open-ot/server");
  const maxTracked = checkNumberOption("createTracingMetrics", "maxTrackedCommits", options.maxTrackedCommits ?? 10_000, {
    min: 0,
    integer: true,
  });
  const clock = new AckClock(maxTracked, (docId, revision, startedAt, deliveredAt) => {
    const origin = performance.timeOrigin;
    tracer
      .startSpan("openot.deliver", {
        kind: SpanKind.INTERNAL,
        startTime: origin + startedAt,
        attributes: { "openot.doc_id": docId, "openot.revision": revision },
      })
      .end(origin + deliveredAt);
  });
  return {
    startCommit(docId) {
      const span = tracer.startSpan("openot.commit", { kind: SpanKind.INTERNAL, attributes: { "openot.doc_id": docId } });
      return (outcome) => {
        if (outcome.kind === "committed") {
          span.setAttribute("openot.revision", outcome.revision);
        } else if (outcome.kind === "duplicate") {
          span.setAttribute("openot.duplicate", true);
        } else {
          const refusal = refusalCode(outcome.error);
          if (refusal !== undefined) {
            span.setAttribute("openot.refusal", refusal);
          } else {
            if (outcome.error instanceof Error) span.recordException(outcome.error);
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: outcome.error instanceof Error ? outcome.error.message : String(outcome.error),
            });
          }
        }
        span.end();
      };
    },
    committed(docId, revision, startedAt) {
      clock.committed(docId, revision, startedAt);
    },
    delivered(docId, revision, kind) {
      if (kind === "ack") clock.acked(docId, revision, performance.now());
    },
  };
}

/** The protocol code of a refusal (an `OTError` of @open-ot/server); undefined for any other failure. */
function refusalCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === "OTError" && typeof code === "string" && code !== "internal" ? code : undefined;
}
