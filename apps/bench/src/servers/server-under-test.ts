import { TextType } from "@open-ot/core";
import type { IBackendAdapter } from "@open-ot/server";

/** What every server the bench starts (OpenOT, ShareDB, the relay) offers to the server process. */
export interface ServerUnderTest {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Create `ids` as text documents holding `text`. Documents that exist are left alone. */
  createDocuments(ids: readonly string[], text: string): Promise<void>;
  /** The current text of a document, or `undefined` for servers that keep none (the relay). */
  documentText(docId: string): Promise<string | undefined>;
  /** Open connections right now. */
  connectionCount(): number;
  /** Server-specific figures (commit timings, for example) since the last reset. */
  extraStats(): Record<string, unknown>;
  /** Clear the figures of {@link extraStats}. */
  resetExtraStats(): void;
  /**
   * Stop accepting, close every connection (1001 where the server supports it), release
   * resources. May resolve to the milliseconds each step took.
   */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- servers that time no steps are `async close(): Promise<void>`
  close(): Promise<void | Record<string, number>>;
  /** The step `close()` is waiting on, while it waits (for a diagnosis when it hangs). */
  closingStep?(): string | undefined;
}

/** `ServerUnderTest.createDocuments` for our servers: text documents through the backend, existing ones left alone. */
export async function createTextDocuments(backend: IBackendAdapter, ids: readonly string[], text: string): Promise<void> {
  for (const id of ids) {
    if ((await backend.getRecord(id).catch(() => undefined)) !== undefined) continue;
    await backend.createDocument(id, TextType.name, text);
  }
}
