import type { ProtocolError } from "@open-ot/core";
import { isBackendUnavailable, type CommitNotice } from "./backend.js";
import type { HubContext } from "./hub-session.js";
import { principalKey } from "./identity-keys.js";
import { OTError } from "./ot-error.js";

/** An op to commit for a client whose connection is elsewhere (see `Hub.submit`). */
export interface ClientSubmit {
  readonly docId: string;
  readonly op: unknown;
  /** The revision the op is based on. */
  readonly revision: number;
  /** The client the op is committed for; its connections get the `ack`. */
  readonly clientId: string;
  /** The op's seq: `(clientId, seq)` is committed at most once. */
  readonly seq: number;
  /** The authenticated principal of the request, as the connection policy granted it. @default undefined */
  readonly principal?: string | undefined;
  /**
   * The document's epoch the client's connection joined (`HubSession.epochOf`): an op of an
   * earlier life of the document is refused with `resync_required`, as on the connection.
   * @default undefined (no epoch check)
   */
  readonly epoch?: string | undefined;
}

/**
 * Commit `request` as a connection's `op` would be (hub-session.ts, `op`): the same identity
 * meta and epoch, and the commit is this instance's own notice for the sequencer. Refusals come back as
 * the error the connection would have been sent.
 */
export async function submitForClient(
  ctx: Pick<HubContext, "server" | "pool" | "logger">,
  request: ClientSubmit,
): Promise<ProtocolError | undefined> {
  const { docId, clientId, seq } = request;
  const meta = {
    clientId,
    seq,
    ...(request.principal === undefined ? {} : { principal: principalKey(request.principal) }),
    ...(request.epoch === undefined ? {} : { epoch: request.epoch }),
  };
  try {
    const result = await ctx.server.submitOperation(docId, request.op, request.revision, meta);
    if (result.duplicate === true) return undefined;
    const notice: CommitNotice = { docId, revision: result.revision, op: result.op, clientId, seq };
    ctx.pool.acceptLocal(notice);
    return undefined;
  } catch (error) {
    if (error instanceof OTError) {
      const { code, message } = error;
      return { code, message, docId, seq };
    }
    if (isBackendUnavailable(error)) {
      return {
        code: "unavailable",
        message: `The server's storage cannot be reached right now (${error.message}): rejoin with your revision and resend the op later with the same seq.`,
        docId,
        seq,
      };
    }
    ctx.logger.error?.("committing an op for a client connected elsewhere failed", { docId, error });
    return {
      code: "internal",
      message:
        "The server failed while handling this op. It may or may not have been committed: rejoin with your revision and resend it with the same seq (de-duplication makes that safe).",
      docId,
      seq,
    };
  }
}
