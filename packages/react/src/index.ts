/**
 * React 19 hooks over a shared `OTConnection`: `OTConnectionProvider`, `useDocument` (one
 * reference-counted document per id, re-rendering only when its snapshot changes) and
 * `useSyncStatus` (the client's status and `synced`, for status lines).
 *
 * @packageDocumentation
 */
export { OTConnectionProvider, useDocument, useSyncStatus } from "./hooks.js";
export type { DocumentState, OTConnectionProviderProps } from "./hooks.js";
export type { DocumentView, SyncStatus } from "./document-registry.js";
