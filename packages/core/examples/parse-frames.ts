import { errorMessage, parseClientFrame, type ClientMessage, type ServerMessage } from "@open-ot/core";

// What a server binding does with every frame it receives: parse, then handle or answer.
const frame = '[{"type":"ping","t":1},{"type":"op","docId":"doc-1","op":[{"i":"x"}],"revision":-1,"seq":1}]';
const handle = (message: ClientMessage): void => console.log(`handle ${message.type}`);
const send = (message: ServerMessage): void => console.log(`send ${JSON.stringify(message)}`);

for (const result of parseClientFrame(frame)) {
  if (result.ok) handle(result.message);
  else send(errorMessage(result.error));
}
// handle ping
// send {"type":"error","code":"bad_revision","message":"\"revision\" must be ...","docId":"doc-1","seq":1}
