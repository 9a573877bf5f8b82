import type { ServerMessage } from "@open-ot/core";
import type { HubConnection } from "../hub-types.js";
import type { Server } from "../server.js";
import { tryReport, type ServerMetrics } from "./server-metrics.js";

/**
 * `connection` as it is, reporting what the hub sends on it: accepted joins (`snapshot`,
 * `joined`), refusals (`error`, by code) and deliveries (`ack`, `op`, by revision).
 */
export function observeConnection(connection: HubConnection, metrics: ServerMetrics): HubConnection {
  const report = (message: ServerMessage): void => {
    switch (message.type) {
      case "snapshot":
      case "joined":
        tryReport(() => metrics.joined?.(message.docId));
        return;
      case "error":
        tryReport(() => metrics.refused?.(message.code, "message"));
        return;
      case "ack":
      case "op":
        tryReport(() => metrics.delivered?.(message.docId, message.revision, message.type));
        return;
      default:
        return;
    }
  };
  return {
    send(message) {
      connection.send(message);
      if (Array.isArray(message)) for (const one of message as readonly ServerMessage[]) report(one);
      else report(message as ServerMessage);
    },
    close(code, reason) {
      connection.close(code, reason);
    },
  };
}

/**
 * `server` as it is, with every `submitOperation` reported to `metrics.startCommit` (for
 * tracing spans around commits); `server` itself when the sink does not trace.
 */
export function observeServer(server: Server, metrics: ServerMetrics): Server {
  if (typeof metrics.startCommit !== "function") return server;
  const submit = server.submitOperation.bind(server) as (
    docId: string,
    op: unknown,
    revision: number,
    meta?: object,
  ) => ReturnType<Server["submitOperation"]>;
  const observed = (docId: string, op: unknown, revision: number, meta?: object): ReturnType<Server["submitOperation"]> => {
    const end = tryReport(() => metrics.startCommit?.(docId));
    const result = submit(docId, op, revision, meta);
    if (end !== undefined) {
      result.then(
        (value) => tryReport(() => end(value.duplicate === true ? { kind: "duplicate" } : { kind: "committed", revision: value.revision })),
        (error: unknown) => tryReport(() => end({ kind: "failed", error })),
      );
    }
    return result;
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(server, {
    get(target, property) {
      if (property === "submitOperation") return observed;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      // Methods run on the server itself, so its private state is not looked up on the proxy.
      let method = bound.get(property);
      if (method === undefined) {
        method = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(property, method);
      }
      return method;
    },
  });
}
