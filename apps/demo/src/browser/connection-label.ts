import type { ReconnectingStatus } from "@open-ot/transport-reconnecting";

/** How the page shows the connection: a short text and a tone for its colour. */
export interface ConnectionLabel {
  readonly text: string;
  readonly tone: "ok" | "waiting" | "offline";
}

/**
 * Describe the reconnecting transport's status for people: "connected", "reconnecting in 3 s",
 * "offline: <why>". Pure, so the page can re-render it every second while a retry counts down.
 *
 * @param status the transport's status (`ReconnectingTransport.status`)
 * @param now the current time in epoch milliseconds (`Date.now()`)
 */
export function connectionLabel(status: ReconnectingStatus, now: number): ConnectionLabel {
  switch (status.state) {
    case "open":
      return { text: "connected", tone: "ok" };
    case "connecting":
    case "reconnecting": {
      const verb = status.state;
      if (status.nextRetryAt === undefined) return { text: `${verb}…`, tone: "waiting" };
      const seconds = Math.max(0, Math.ceil((status.nextRetryAt - now) / 1000));
      return { text: seconds === 0 ? `${verb}…` : `${verb} in ${seconds} s`, tone: "waiting" };
    }
    case "closed": {
      const why = status.lastCloseReason;
      return { text: why === undefined || why === "" ? "offline" : `offline: ${why}`, tone: "offline" };
    }
  }
}
