import { ReconnectingTransport } from "@open-ot/transport-reconnecting";
import { WebSocketTransport } from "@open-ot/transport-websocket";

const transport = new ReconnectingTransport(() => new WebSocketTransport(`${location.origin}/ws`));
const line = document.querySelector("#status")!;
let tick: ReturnType<typeof setInterval> | undefined;

function render(): void {
  const s = transport.status;
  if (s.state === "open") line.textContent = "Online";
  else if (s.state === "closed") line.textContent = `Offline: ${s.lastCloseReason ?? "disconnected"}`;
  else if (s.nextRetryAt !== undefined) {
    const seconds = Math.max(0, Math.ceil((s.nextRetryAt - Date.now()) / 1000));
    line.textContent = `${s.state === "connecting" ? "Connecting" : "Reconnecting"} in ${seconds} s (attempt ${s.attempt})`;
  } else line.textContent = s.state === "connecting" ? "Connecting…" : `Reconnecting… (attempt ${s.attempt})`;
}

transport.onStatus(() => {
  clearInterval(tick);
  if (transport.status.nextRetryAt !== undefined) tick = setInterval(render, 1000);
  render();
});
render();
document.querySelector("#retry")!.addEventListener("click", () => transport.retryNow());
