/**
 * React 19 hooks over a shared `OTConnection`: `OTConnectionProvider`, `useDocument` (one
 * reference-counted document per id, re-rendering only when its snapshot changes),
 * `useSyncStatus` (the client's status and `synced`, for status lines), and `usePresence`
 * (peers' presence, re-rendering only on change, and the local presence, cleared on unmount).
 *
 * @packageDocumentation
 */
export { OTConnectionProvider, useDocument, usePresence, useSyncStatus } from "./hooks.js";
export type { DocumentPresence, DocumentState, OTConnectionProviderProps } from "./hooks.js";
export type { DocumentView, SyncStatus } from "./document-registry.js";
