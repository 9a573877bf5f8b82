export { OTConnectionProvider, useDocument, useSyncStatus } from "./hooks.js";
export type { DocumentState, OTConnectionProviderProps } from "./hooks.js";
export type { DocumentView, SyncStatus } from "./document-registry.js";
