// The browser test's page: the README's example, plus a small API on `window` for the test.
import { collabStatus, setRemoteSelections, type RemoteSelection } from "../../src/index.js";
import { client, view } from "../../examples/editor.browser.js";

const api = {
  text: () => view.state.doc.toString(),
  status: () => collabStatus(view.state),
  synced: () => client.synced,
  revision: () => (client.hasDocument ? client.revision : -1),
  showRemote: (selections: RemoteSelection[]) => view.dispatch({ effects: setRemoteSelections.of(selections) }),
};
(window as unknown as { editor: typeof api }).editor = api;
