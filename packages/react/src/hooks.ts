import type { LocalPresence, OTConnection, PeerPresenceView } from "@open-ot/client";
import type { OTType } from "@open-ot/core";
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from "react";
import { DocumentRegistry, NO_PEERS, type DocumentHandle, type DocumentView, type SyncStatus } from "./document-registry.js";

const RegistryContext = createContext<DocumentRegistry | undefined>(undefined);

/** One registry per connection, so that two providers of one connection share its documents. */
const registries = new WeakMap<OTConnection, DocumentRegistry>();

function registryOf(connection: OTConnection): DocumentRegistry {
  let registry = registries.get(connection);
  if (registry === undefined) {
    registry = new DocumentRegistry(connection);
    registries.set(connection, registry);
  }
  return registry;
}

/** Props of {@link OTConnectionProvider}. */
export interface OTConnectionProviderProps {
  /** The connection the components below open their documents on; the application creates and closes it. */
  readonly connection: OTConnection;
  /** The components that use the connection's documents. */
  readonly children?: ReactNode;
}

/**
 * Makes `connection` the one that {@link useDocument} and {@link useSyncStatus} below use. The
 * provider neither connects nor closes it: create it once outside React (or in a module), and
 * close it when the application is done with it.
 */
export function OTConnectionProvider({ connection, children }: OTConnectionProviderProps): ReactNode {
  return createElement(RegistryContext.Provider, { value: registryOf(connection) }, children);
}

function useRegistry(hook: string): DocumentRegistry {
  const registry = useContext(RegistryContext);
  if (registry === undefined) throw new Error(`@open-ot/react: ${hook}() must be used inside <OTConnectionProvider connection={...}>`);
  return registry;
}

/** What {@link useDocument} returns. */
export interface DocumentState<Snapshot, Op> extends DocumentView<Snapshot, Op> {
  /**
   * Apply a local edit: it shows at once (the component re-renders) and is sent to the server.
   * Throws when there is no document yet or the op does not apply.
   */
  readonly submit: (op: Op) => void;
}

/** Before the first subscription: nothing is open yet. */
const NOT_OPEN: DocumentView<never, never> = { snapshot: undefined, client: undefined, error: undefined };

/**
 * Open the document `docId` of the provider's connection and read its snapshot. The component
 * re-renders when the snapshot changes (a remote op, a local `submit`, a resync), and only then.
 *
 * Every component using one `docId` shares one open document (one `join`), reference-counted:
 * the last one to unmount closes it (`leave`). Strict mode's double effects neither leave nor
 * rejoin. `type` must be the same object for every user of `docId` (a module-level constant).
 */
export function useDocument<Snapshot, Op>(docId: string, type: OTType<Snapshot, Op>): DocumentState<Snapshot, Op> {
  const registry = useRegistry("useDocument");
  const subscribe = useCallback(
    (onChange: () => void) => {
      const handle = registry.acquire(docId, type);
      const unlisten = handle.listen(onChange);
      return () => {
        unlisten();
        registry.release(handle);
      };
    },
    [registry, docId, type],
  );
  const view = useSyncExternalStore(subscribe, () => (registry.peek(docId)?.view ?? NOT_OPEN) as DocumentView<Snapshot, Op>);
  const submit = useCallback(
    (op: Op) => {
      const open = registry.peek(docId) as DocumentHandle<Snapshot, Op> | undefined;
      if (open === undefined) throw new Error(`@open-ot/react: "${docId}" is not open yet`);
      open.submit(op);
    },
    [registry, docId],
  );
  return useMemo(() => ({ ...view, submit }), [view, submit]);
}

/**
 * The connection and sync state of a document that a {@link useDocument} in the tree has open
 * (the client's `status` object and `synced`), or `undefined` while none has; it does not open
 * the document itself. Re-renders only when the status or `synced` changes.
 */
export function useSyncStatus(docId: string): SyncStatus | undefined {
  const registry = useRegistry("useSyncStatus");
  const subscribe = useCallback(
    (onChange: () => void) => {
      let listened: DocumentHandle<unknown, unknown> | undefined;
      let unlisten: (() => void) | undefined;
      const follow = (): void => {
        const handle = registry.peek(docId);
        if (handle !== listened) {
          unlisten?.();
          listened = handle;
          unlisten = handle?.listen(onChange);
        }
        onChange();
      };
      const unwatch = registry.watch(follow);
      follow();
      return () => {
        unwatch();
        unlisten?.();
      };
    },
    [registry, docId],
  );
  return useSyncExternalStore(subscribe, () => registry.peek(docId)?.syncStatus);
}

/** What {@link usePresence} returns. */
export interface DocumentPresence {
  /**
   * The other clients in the document by author label: each one's `label` and `color` (the
   * application's, never to be trusted for authorization), `principal` (stamped by the server)
   * and `ranges` mapped into the local view. Empty until the server sent presence.
   */
  readonly peers: ReadonlyMap<string, PeerPresenceView>;
  /**
   * Set this client's presence in the document: a label, a colour, and ranges (selections; a
   * caret is `anchor === head`) in the document as `useDocument` shows it. The last value wins;
   * the client sends it when the server takes presence and no edits are pending. The component's
   * unmount clears it. Throws a TypeError for ranges that are not non-negative integers.
   */
  readonly setPresence: (state: LocalPresence) => void;
  /** Remove this client's presence from the document (the others see it gone). */
  readonly clearPresence: () => void;
}

/**
 * Read the other clients' presence in the document `docId` and set this client's own. Holds
 * the document open like {@link useDocument} (the same shared document, one `join`; `type` must
 * be the same object). The component re-renders when someone joins, leaves, or shows somewhere
 * else (their ranges follow the edits), and only then.
 *
 * The local presence belongs to the component that set it last: its unmount clears it (a
 * microtask late, so strict mode's double effects clear nothing). A `setPresence` before the
 * document is open is applied once it is.
 */
export function usePresence<Snapshot, Op>(docId: string, type: OTType<Snapshot, Op>): DocumentPresence {
  const registry = useRegistry("usePresence");
  // This caller's identity for the registry; kept across strict mode's double effects.
  const [token] = useState(() => ({}));
  // A setPresence made before the subscription, applied by it.
  const early = useRef<LocalPresence | null | undefined>(undefined);
  const subscribe = useCallback(
    (onChange: () => void) => {
      const handle = registry.acquire(docId, type);
      handle.holdPresence(token);
      if (early.current !== undefined) handle.setLocalPresence(token, early.current);
      early.current = undefined;
      const unlisten = handle.listen(onChange);
      return () => {
        unlisten();
        handle.dropPresence(token);
        registry.release(handle);
      };
    },
    [registry, docId, type, token],
  );
  const peers = useSyncExternalStore(subscribe, () => registry.peek(docId)?.peers ?? NO_PEERS);
  const set = useCallback(
    (state: LocalPresence | null) => {
      if (registry.peek(docId)?.setLocalPresence(token, state) !== true) early.current = state;
    },
    [registry, docId, token],
  );
  const setPresence = useCallback((state: LocalPresence) => set(state), [set]);
  const clearPresence = useCallback(() => set(null), [set]);
  return useMemo(() => ({ peers, setPresence, clearPresence }), [peers, setPresence, clearPresence]);
}
