export {
  otCollab,
  otCollabState,
  OTCodeMirrorBinding,
  type CollabPresenceOptions,
  type EditorHost,
  type LocalSelectionRange,
  type OTCollabOptions,
  type TextDocumentClient,
} from "./ot-collab.js";
export { collabStatus, setCollabReadOnly, type CollabStatus } from "./collab-status.js";
export { remoteSelections, remoteSelectionsField, setRemoteSelections, type RemoteSelection } from "./remote-selections.js";
export { changesToTextOp, textOpToChanges } from "./text-op-changes.js";
