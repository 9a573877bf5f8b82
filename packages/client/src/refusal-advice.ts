import type { ClientErrorCode } from "./ot-client-error.js";

/**
 * What the application must do after the client stopped on a final refusal (status `refused`),
 * by code: a final code means the same request would be refused again, so the client does not
 * repeat it by itself.
 */
export function refusalAction(code: ClientErrorCode): string {
  switch (code) {
    case "unauthorized":
      return "Sign in again: give the transport a valid token, then call connect().";
    case "forbidden":
      return "This user may not open this document (or another user holds this clientId): use other credentials or another clientId, then call connect().";
    case "not_found":
      return "The document does not exist and the server does not create documents: create it, or open another docId.";
    case "too_large":
      return "A message or the document is larger than the server accepts: make the edit smaller, or raise the server's limit.";
    case "doc_type_mismatch":
      return "Construct the client with the document's type (the `type` option), then call connect().";
    case "bad_message":
    case "invalid_op":
    case "bad_revision":
    case "resync_required":
    case "protocol_violation":
      return "The client and server disagree about the protocol (a bug on one side): report it; connect() tries again.";
    default:
      return "Call connect() to try again.";
  }
}
