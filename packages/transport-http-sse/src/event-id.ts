import type { ServerMessage } from "@open-ot/core";

/**
 * The `id:` to put on the event carrying `message` (one message or a batch), or undefined for
 * none: the revision of the last `ack`, `op`, `snapshot` or `joined` in it, so that an
 * EventSource's `Last-Event-ID` names the position to resume after.
 *
 * On a stream opened for one document (`streamDocId`), only that document's messages count: the
 * id is resumed as that document's revision, and another document's revision would skip or
 * repeat ops. On a stream without a document every such message counts.
 */
export function eventIdFor(message: ServerMessage | readonly ServerMessage[], streamDocId: string | undefined): number | undefined {
  const list: readonly ServerMessage[] = Array.isArray(message) ? message : [message as ServerMessage];
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i];
    if (m === undefined) continue;
    if (m.type !== "ack" && m.type !== "op" && m.type !== "snapshot" && m.type !== "joined") continue;
    if (streamDocId !== undefined && m.docId !== streamDocId) continue;
    return m.revision;
  }
  return undefined;
}
