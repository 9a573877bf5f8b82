// The public API of @open-ot/core, named on purpose: what is not listed here is internal and may
// change in any release (api/core.api.md is the reviewed record of this surface).

// OT types and the text type.
export { InvalidOpError, type OTType, type Side } from "./ot-type.js";
export {
  componentLength,
  isDelete,
  isInsert,
  isNoop,
  isRetain,
  textOpLengthDelta,
  textOpReach,
  type DeleteComponent,
  type InsertComponent,
  type RetainComponent,
  type TextComponent,
  type TextOp,
} from "./text-op.js";
export { TextType, transformNormalTextOp } from "./text-type.js";
export { isNormalTextOp } from "./text-op-builder.js";
export { LazyText } from "./lazy-text.js";
export { transformCursor } from "./transform-cursor.js";
export { diffText } from "./diff-text.js";
export { findLoneSurrogate, isHighSurrogate, isLowSurrogate, splitsSurrogatePair, type CodeUnits } from "./surrogates.js";

// Transports.
export {
  TokenSourceError,
  checkTokenSource,
  isHandshakeCapable,
  resolveToken,
  type HandshakeCapable,
  type TokenSource,
  type TransportAdapter,
  type TransportCloseEvent,
} from "./transport.js";

// The wire protocol: messages, their validation and encoding, error and close codes.
export {
  DEFAULT_DOC_ID,
  MAX_AUTHOR_LENGTH,
  MAX_CLIENT_ID_LENGTH,
  MAX_DOC_ID_LENGTH,
  PROTOCOL_VERSION,
  isValidAuthor,
  isValidClientId,
  isValidDocId,
  isValidEpoch,
  isValidRevision,
  isValidSeq,
  randomClientId,
  type AckMessage,
  type ClientMessage,
  type ErrorMessage,
  type JoinMessage,
  type JoinedMessage,
  type LeaveMessage,
  type OpMessage,
  type PingMessage,
  type PongMessage,
  type ProtocolMessage,
  type RemoteOpMessage,
  type RestoreCopy,
  type ServerMessage,
  type SnapshotMessage,
} from "./protocol.js";
export { MAX_RESTORE_AUTHORS, parseClientFrame, parseClientMessage } from "./parse.js";
export { parseServerFrame, parseServerMessage } from "./parse-server-message.js";
export { errorMessage, type ParseResult, type ProtocolError } from "./protocol-error.js";
export { decodeFrame, type DecodedFrame } from "./decode-frame.js";
export { encodeMessage } from "./encode-message.js";
export {
  CloseCode,
  CloseCodes,
  ErrorClasses,
  ErrorCodes,
  describeCloseCode,
  errorClassOf,
  isErrorCode,
  type CloseCodeInfo,
  type ErrorClass,
  type ErrorCode,
  type ReconnectAdvice,
} from "./codes.js";

// Presence (an optional extension of the protocol): who is in a document and where.
export {
  MAX_PRESENCE_BYTES,
  MAX_PRESENCE_COLOR_LENGTH,
  MAX_PRESENCE_LABEL_LENGTH,
  MAX_PRESENCE_RANGES,
  isPresencePeers,
  readPresenceState,
  type PeerPresence,
  type PeerPresenceUpdate,
  type PresenceMessage,
  type PresenceRange,
  type PresenceState,
  type PresenceUpdateMessage,
} from "./presence.js";

// Shared by the other @open-ot packages.
export { silentLogger, type Logger } from "./logger.js";
export { checkNumberOption, type NumberOptionRule } from "./number-option.js";
