// The browser test's page: the README's example, plus a small API on `window` for the test.
import { collabStatus } from "../../src/index.js";
import { client, label, view } from "../../examples/editor.browser.js";

const api = {
  text: () => view.state.doc.toString(),
  status: () => collabStatus(view.state),
  synced: () => client.synced,
  revision: () => (client.hasDocument ? client.revision : -1),
  label: () => label,
  head: () => view.state.selection.main.head,
  /** Where the editor draws position `pos` (left, top), in page coordinates. */
  coordsAt: (pos: number) => {
    const c = view.coordsAtPos(pos);
    return c === null ? null : { left: c.left, top: c.top };
  },
};
(window as unknown as { editor: typeof api }).editor = api;
