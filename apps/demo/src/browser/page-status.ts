import type { OTClientStatus, RestoredEvent } from "@open-ot/client";
import type { ReconnectingStatus } from "@open-ot/transport-reconnecting";
import { connectionLabel, type ConnectionLabel } from "./connection-label.js";

/** What the page knows when it renders its status. */
export interface PageStatusInput {
  /** The reconnecting transport's status. */
  readonly transport: ReconnectingStatus;
  /** The OT client's status. */
  readonly client: OTClientStatus;
  /** Every local edit is acknowledged. */
  readonly synced: boolean;
  /** The last restore of a lost document, until the person dismisses the notice. */
  readonly restored: RestoredEvent | undefined;
  /** What the server's `/healthz` last said about its storage (`undefined`: not asked yet). */
  readonly storageReachable: boolean | undefined;
  /** Epoch milliseconds (`Date.now()`). */
  readonly now: number;
}

/** What the banner's button does. */
export type BannerButton = "retry" | "adopt" | "dismiss";

/** How the page shows the state: the connection pill, the save pill, and a banner when there is something to say. */
export interface PageStatus {
  readonly pill: ConnectionLabel;
  readonly sync: { readonly text: string; readonly saved: boolean };
  readonly banner:
    { readonly text: string; readonly tone: "info" | "warning" | "error"; readonly button: BannerButton | undefined } | undefined;
}

/**
 * Describe the page's state truthfully for people: "connected" only while edits are being
 * committed (the transport is open, the client live, the server's storage reachable); a banner
 * saying what is happening and what the person can do; a "retry now" button only where waiting
 * is the only other option. Pure, so the page can render it every second while a retry counts down.
 */
export function pageStatus(input: PageStatusInput): PageStatus {
  const { transport, client, synced, now } = input;
  const kept = "Your edits are kept in this tab and will be sent";
  // Unacknowledged edits are "sending" only while they are being sent (connected and live);
  // otherwise they wait here.
  const sending = transport.state === "open" && client.state === "live";
  const sync = { text: synced ? "saved" : sending ? "sending…" : "not saved yet", saved: synced };

  if (transport.state === "closed") {
    return {
      pill: connectionLabel(transport, now),
      sync,
      banner: {
        text: `Disconnected from the server${transport.lastCloseReason ? ` (${transport.lastCloseReason})` : ""}. Your edits stay in this tab but are not saved.`,
        tone: "error",
        button: "retry",
      },
    };
  }
  if (transport.state !== "open") {
    const pill = connectionLabel(transport, now);
    const next = nextTry(transport.nextRetryAt, now);
    // The first attempt of a page load needs no banner; a lost connection does.
    if (transport.state === "connecting" && transport.attempt <= 1) return { pill, sync, banner: undefined };
    return {
      pill,
      sync,
      banner: { text: `The connection to the server was lost. ${kept} when it is back.${next}`, tone: "warning", button: "retry" },
    };
  }

  switch (client.state) {
    case "waiting": {
      const next = nextTry(client.nextRetryAt, now);
      const text =
        client.code === "unavailable"
          ? `The server cannot save right now: its storage is unreachable. ${kept} as soon as it can.${next}`
          : client.code === "rate_limited"
            ? `The server asked this tab to slow down. ${kept} shortly.${next}`
            : `The server failed to save. ${kept} again.${next}`;
      return { pill: { text: "not saving", tone: "waiting" }, sync, banner: { text, tone: "warning", button: "retry" } };
    }
    case "joining":
      return client.restoring
        ? {
            pill: { text: "restoring…", tone: "waiting" },
            sync,
            banner: {
              text: "The server lost this document (it restarted without its data). Restoring it from your copy…",
              tone: "info",
              button: undefined,
            },
          }
        : { pill: { text: "joining…", tone: "waiting" }, sync, banner: undefined };
    case "lost":
      return {
        pill: { text: "document lost", tone: "offline" },
        sync: { text: "not saved", saved: false },
        banner: client.restorable
          ? { text: "The server lost this document. Your copy is kept in this tab.", tone: "error", button: undefined }
          : {
              text: "While you were away this document was created anew on the server, with other content. Your copy is kept in this tab: copy what you need, then use the server's version.",
              tone: "error",
              button: "adopt",
            },
      };
    case "refused":
      return {
        pill: { text: "refused", tone: "offline" },
        sync,
        banner: { text: `The server refused this document: ${client.reason} ${client.action}`, tone: "error", button: undefined },
      };
    case "live": {
      if (input.storageReachable === false) {
        return {
          pill: { text: "server cannot save", tone: "waiting" },
          sync,
          banner: { text: `The server cannot reach its storage right now. ${kept} when it can.`, tone: "warning", button: undefined },
        };
      }
      const restored = input.restored;
      return {
        pill: { text: "connected", tone: "ok" },
        sync,
        banner: restored === undefined ? undefined : { text: RESTORED[restored.outcome], tone: "info", button: "dismiss" },
      };
    }
    default:
      return { pill: { text: `${client.state}…`, tone: "waiting" }, sync, banner: undefined };
  }
}

const RESTORED: Readonly<Record<RestoredEvent["outcome"], string>> = {
  restored: "The server had lost this document; it was restored from your copy.",
  rebased: "The server had lost this document; it was restored from another person's copy, and your unsent edits were added to it.",
  adopted: "You are now editing the server's version of this document.",
};

function nextTry(at: number | undefined, now: number): string {
  if (at === undefined) return "";
  const seconds = Math.max(0, Math.ceil((at - now) / 1000));
  return seconds === 0 ? " Trying now…" : ` Next try in ${seconds} s.`;
}
