/**
 * The request/reply protocol between the bench's parent process and its children (servers and
 * load drivers), over Node's IPC channel with `serialization: "advanced"` (structured clone, so
 * `Infinity`, `Map` and typed arrays survive).
 */

/** Parent to child: call `method` with `params`; the child answers with the same `id`. */
export interface IpcRequest {
  readonly kind: "request";
  readonly id: number;
  readonly method: string;
  readonly params: unknown;
}

/** Child to parent: the answer to request `id`, a result or an error message. */
export interface IpcReply {
  readonly kind: "reply";
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
}

/** Child to parent, unasked: something happened (for example `ready` with the listening port). */
export interface IpcEvent {
  readonly kind: "event";
  readonly name: string;
  readonly data: unknown;
}

/** Every message on the channel. */
export type IpcMessage = IpcRequest | IpcReply | IpcEvent;

/** What a child answers a method with. */
export type IpcHandler = (params: never) => unknown;

function isRequest(value: unknown): value is IpcRequest {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "request";
}

/**
 * In a child process: answer the parent's requests with `handlers[method](params)` (sync or
 * async). An unknown method or a thrown error is answered as an error, never crashes the child.
 * The child exits when the parent goes away, so no process outlives an interrupted bench.
 */
export function serveParent(handlers: Record<string, IpcHandler>): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    throw new Error("this module runs as a child of the bench (child_process.fork); start the bench with `node dist/run.js`");
  }
  process.on("disconnect", () => process.exit(0));
  process.on("message", (message: unknown) => {
    if (!isRequest(message)) return;
    const handler = handlers[message.method];
    const answer = (reply: Omit<IpcReply, "kind" | "id">): void => {
      send({ kind: "reply", id: message.id, ...reply } satisfies IpcReply);
    };
    if (handler === undefined) {
      answer({ error: `unknown method ${message.method}` });
      return;
    }
    Promise.resolve()
      .then(() => (handler as (params: unknown) => unknown)(message.params))
      .then(
        (result) => answer({ result }),
        (error: unknown) => answer({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
}

/** In a child process: tell the parent that `name` happened. */
export function emitToParent(name: string, data: unknown): void {
  process.send?.({ kind: "event", name, data } satisfies IpcEvent);
}
