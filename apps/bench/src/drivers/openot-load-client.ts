import WebSocket from "ws";
import { LazyText, randomClientId, TextType, transformNormalTextOp, type TextOp } from "@open-ot/core";
import { makeStamp, nextEdit, wallClock, type Edit } from "./edit-generator.js";
import type { LoadClient, LoadClientSpec } from "./load-client.js";
import { RevisionWaiters } from "./revision-waiters.js";
import type { LoadMetrics } from "./load-metrics.js";

/** Options of {@link OpenOtLoadClient}. */
export interface OpenOtLoadClientOptions {
  /** Size the document is kept at, in characters. */
  readonly targetSize: number;
  /** Uniform random numbers in [0, 1) for edit positions. */
  readonly random: () => number;
  /** Opt in to batched frames (`?batch=1` and `"batch": true` in the join). @default true */
  readonly batch?: boolean;
  /**
   * Submit at most this many ops per second: op k goes out at `k * 1000 / opsPerSecond` ms
   * after the first (a grid, so that late timers do not lower the rate), or when the ack of
   * op k - 1 is in, whichever is later; a client more than a few steps behind the grid starts
   * a new one. @default unpaced
   */
  readonly opsPerSecond?: number;
  /** Open the client's socket. @default a `ws` WebSocket without compression */
  readonly openSocket?: (url: string) => RawSocket;
}

/** The part of a `ws` WebSocket this client uses (a stand-in may hand `message` listeners a string). */
export interface RawSocket {
  readonly readyState: number;
  on(event: "open", listener: () => void): unknown;
  on(event: "message", listener: (data: Buffer) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "close", listener: (code: number) => void): unknown;
  once(event: "close", listener: () => void): unknown;
  send(data: string): void;
  close(code: number, reason: string): void;
}

const openWs = (url: string): RawSocket => new WebSocket(url, { perMessageDeflate: false });

interface InFlight {
  op: TextOp;
  readonly seq: number;
  readonly sentAt: number;
  /** Times it was sent again after a transient refusal. */
  resends: number;
}

/** Wire messages this client reads (docs/protocol.md, "Server to client"); fields it does not use are left out. */
type Incoming =
  | { type: "snapshot"; revision: number; data: string; lastSeq?: number }
  | { type: "joined"; revision: number }
  | { type: "ack"; revision: number; seq?: number }
  | { type: "op"; revision: number; op: TextOp }
  | { type: "error"; code: string; message: string; seq?: number }
  | { type: "pong" };

/** Resends of one op after transient refusals before the client gives the op up. */
const MAX_RESENDS = 10;

/** Paced clients: how many steps behind the grid a client may catch up on. */
const PACE_CATCH_UP = 5;

/** Refusals after which the same op may simply be sent again (the server's state is unchanged). */
const TRANSIENT = new Set(["internal", "rate_limited"]);

/**
 * Lifecycle: `idle -> joining -> live -> closed`, and `live -> rejoining -> live` after a
 * `resync_required` refusal of the op in flight.
 */
type Phase = "idle" | "joining" | "live" | "rejoining" | "closed";

/** Convert an {@link Edit} to a text op of the OpenOT wire format. */
export function editToTextOp(edit: Edit): TextOp {
  const op: TextOp = [];
  if (edit.position > 0) op.push({ r: edit.position });
  if (edit.deleteCount > 0) op.push({ d: edit.deleteCount });
  op.push({ i: edit.text });
  return op;
}

/** The first insert of `op` (where a load client's stamp is), or "". */
export function firstInsert(op: TextOp): string {
  for (const c of op) if ("i" in c) return c.i;
  return "";
}

/**
 * A load client speaking the OpenOT wire protocol directly over `ws` (not through OTClient),
 * so that the driver's own cost per message is as small as possible and each latency is
 * measured at the frame: `join` with a random `clientId`, then one `op` (with `seq`) in flight
 * at a time. Incoming ops are transformed against the op in flight (remote on the left, own on
 * the right, as docs/protocol.md "Ties" says) and applied, so the client's text can be checked against
 * everybody else's at the end.
 */
export class OpenOtLoadClient implements LoadClient {
  readonly docId: string;
  readonly #spec: LoadClientSpec;
  readonly #metrics: LoadMetrics;
  readonly #options: OpenOtLoadClientOptions;
  readonly #clientId = randomClientId();
  readonly #waiters = new RevisionWaiters();
  #socket: RawSocket | undefined;
  #phase: Phase = "idle";
  /**
   * The client's document. A `LazyText` (core's op-cost text, what the server holds too) rather
   * than a string: applying each of N clients' ops to a copied string made the driver, not the
   * server, the bound of every run at N >= 50 (and of the 1 MB large-document run), as an
   * editor's rope would not be.
   */
  #text = LazyText.of("");
  /** Paced: when the next op may go out, and the timer that sends it then. */
  #dueAt = -Infinity;
  #paceTimer: ReturnType<typeof setTimeout> | undefined;
  #revision = -1;
  #seq = 0;
  #joinAttempts = 0;
  #inFlight: InFlight | undefined;
  #running = false;
  #onIdle: (() => void) | undefined;
  #onJoined: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(spec: LoadClientSpec, metrics: LoadMetrics, options: OpenOtLoadClientOptions) {
    this.docId = spec.docId;
    this.#spec = spec;
    this.#metrics = metrics;
    this.#options = options;
  }

  get revision(): number {
    return this.#revision;
  }

  #setPhase(next: Phase): void {
    this.#phase = next;
  }

  connect(): Promise<void> {
    if (this.#phase !== "idle") throw new Error(`connect() called in phase ${this.#phase}; create a new client instead`);
    this.#setPhase("joining");
    const batch = this.#options.batch ?? true;
    const socket = (this.#options.openSocket ?? openWs)(`${this.#spec.url}/ws${batch ? "?batch=1" : ""}`);
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      this.#onJoined = { resolve, reject };
      socket.on("open", () => this.#sendJoin());
      socket.on("message", (data: Buffer) => this.#onFrame(data));
      socket.on("error", (error: Error) => {
        this.#metrics.error(`socket:${(error as NodeJS.ErrnoException).code ?? error.message}`);
        this.#onJoined?.reject(error);
      });
      socket.on("close", (code: number) => {
        if (this.#phase !== "closed") this.#metrics.error(`closed:${code}`);
        this.#onJoined?.reject(new Error(`connection closed with ${code} before the join was answered`));
        this.#setPhase("closed");
        this.#onIdle?.();
      });
    });
  }

  #sendJoin(revision?: number): void {
    this.#joinAttempts += 1;
    const batch = this.#options.batch ?? true;
    this.#socket?.send(
      JSON.stringify({
        type: "join",
        docId: this.docId,
        clientId: this.#clientId,
        ...(revision === undefined ? {} : { revision }),
        ...(batch ? { batch: true } : {}),
      }),
    );
  }

  #onFrame(data: Buffer | string): void {
    const parsed = JSON.parse(data.toString()) as Incoming | Incoming[];
    if (Array.isArray(parsed)) {
      this.#metrics.frame(parsed.length);
      for (const m of parsed) this.#handle(m);
    } else {
      this.#metrics.frame(1);
      this.#handle(parsed);
    }
    // The next op goes out after the whole frame was applied: a batch often holds the ack and
    // the ops committed after it, and an op based on the newest revision needs no transform.
    this.#next();
  }

  #handle(m: Incoming): void {
    // docs/protocol.md, "Joining and resuming": a client ignores the acks and ops of a document between sending
    // a join that replaces the earlier one and its answer; they come again after `joined`.
    if (this.#phase === "rejoining" && (m.type === "ack" || m.type === "op")) return;
    switch (m.type) {
      case "snapshot":
        if (this.#phase === "rejoining") {
          this.#resyncFromSnapshot(m);
          return;
        }
        this.#text = LazyText.of(m.data);
        this.#revision = m.revision;
        this.#setPhase("live");
        this.#onJoined?.resolve();
        this.#onJoined = undefined;
        return;
      case "joined": {
        // Only a rejoin after `resync_required` names a revision: the ops after it follow, and
        // the op in flight (transformed over every op received so far) goes again under its seq.
        const inFlight = this.#inFlight;
        if (this.#phase !== "rejoining" || m.revision !== this.#revision) {
          this.#metrics.error("unexpected_joined");
          return;
        }
        this.#setPhase("live");
        if (inFlight !== undefined) this.#send(inFlight);
        return;
      }
      case "ack": {
        if (m.revision !== this.#revision + 1) this.#metrics.orderViolation();
        this.#revision = m.revision;
        const done = this.#inFlight;
        this.#inFlight = undefined;
        if (done === undefined) this.#metrics.error("ack_without_op");
        else this.#metrics.ack(done.sentAt);
        this.#waiters.notify(this.#revision);
        return;
      }
      case "op": {
        if (m.revision !== this.#revision + 1) this.#metrics.orderViolation();
        // The op's shape is checked once, here; the op in flight is in normal form (see #next),
        // so both transforms skip the checks TextType.transform repeats on every call, and the
        // apply judges the result against the document (what a real client must do).
        let remote = TextType.normalize(m.op);
        const mine = this.#inFlight;
        if (mine !== undefined) {
          const transformed = transformNormalTextOp(remote, mine.op, "left");
          mine.op = transformNormalTextOp(mine.op, remote, "right");
          remote = transformed;
        }
        this.#text = this.#text.apply(remote);
        this.#revision = m.revision;
        this.#metrics.broadcast(firstInsert(m.op), this.#spec.instance);
        this.#waiters.notify(this.#revision);
        return;
      }
      case "error":
        this.#metrics.error(
          m.code,
          `${m.message} (seq ${String(m.seq)}, in flight ${String(this.#inFlight?.seq)}, revision ${this.#revision})`,
        );
        if (this.#phase === "rejoining" && m.seq === undefined) {
          // The rejoin was refused (the earlier join still holds, but this client ignored what
          // it delivered meanwhile): join again while the refusal is transient, from the same
          // revision. Otherwise the client stays behind and the run reports it.
          if (TRANSIENT.has(m.code) && this.#joinAttempts < MAX_RESENDS) this.#sendJoin(this.#revision);
          return;
        }
        if (this.#phase === "joining") {
          // The join was refused. A transient refusal is retried as an application calling
          // OTClient.connect() again would; anything else fails the set-up with the reason.
          if (TRANSIENT.has(m.code) && this.#joinAttempts < MAX_RESENDS) {
            this.#sendJoin();
          } else {
            this.#onJoined?.reject(new Error(`join of ${this.docId} refused: ${m.code}: ${m.message}`));
            this.#onJoined = undefined;
          }
          return;
        }
        if (m.seq !== undefined && this.#inFlight?.seq === m.seq) {
          if (m.code === "resync_required" && this.#inFlight.resends < MAX_RESENDS) {
            // docs/protocol.md, "Errors": join again. As OTClient does: rejoin from this client's revision
            // (the newest it has, so the server still keeps what follows it) and resend the op
            // in flight once the join is answered.
            this.#inFlight.resends += 1;
            this.#setPhase("rejoining");
            this.#sendJoin(this.#revision);
            return;
          }
          if (TRANSIENT.has(m.code) && this.#inFlight.resends < MAX_RESENDS) {
            this.#inFlight.resends += 1;
            // docs/protocol.md: a refusal changes nothing, and these say "try again". The op in
            // flight has been transformed over every op received since, so it is resent under
            // its seq, based on the current revision, as OTClient does after a transient refusal.
            this.#send(this.#inFlight);
            return;
          }
          // Refused for good: the document is unchanged on the server but not here, so this
          // client will show as diverged at the end, which is the honest outcome.
          this.#inFlight = undefined;
        }
        return;
      case "pong":
        return;
    }
  }

  /**
   * A rejoin answered with a snapshot (the ops after this client's revision are no longer
   * kept). `lastSeq` says whether the op in flight was committed; if it was not, this client
   * cannot rebase it (it has no diff, unlike OTClient with its `diff` option) and gives it up,
   * which shows as an error and, honestly, as a client whose edit is missing at the end.
   */
  #resyncFromSnapshot(m: { revision: number; data: string; lastSeq?: number }): void {
    const inFlight = this.#inFlight;
    this.#inFlight = undefined;
    if (inFlight !== undefined) {
      if (m.lastSeq !== undefined && m.lastSeq >= inFlight.seq) this.#metrics.ack(inFlight.sentAt);
      else this.#metrics.error("resync_dropped_op");
    }
    this.#text = LazyText.of(m.data);
    this.#revision = m.revision;
    this.#setPhase("live");
    this.#waiters.notify(this.#revision);
  }

  /** Submit the next op if the loop runs and nothing is in flight; otherwise settle `stop()`. */
  #next(): void {
    if (!this.#running || this.#phase !== "live") {
      if (this.#inFlight === undefined) {
        this.#onIdle?.();
        this.#onIdle = undefined;
      }
      return;
    }
    if (this.#inFlight !== undefined || this.#paceTimer !== undefined) return;
    const rate = this.#options.opsPerSecond;
    if (rate !== undefined) {
      const now = wallClock();
      const wait = this.#dueAt - now;
      if (wait > 0) {
        this.#paceTimer = setTimeout(() => {
          this.#paceTimer = undefined;
          this.#next();
        }, wait);
        return;
      }
      // Late (timers fire on whole milliseconds, an ack was slow): catch up, sending on the
      // ack, by at most PACE_CATCH_UP steps, so the rate holds without a burst after a stall.
      this.#dueAt = Math.max(this.#dueAt, now - PACE_CATCH_UP * (1000 / rate)) + 1000 / rate;
    }
    const sentAt = wallClock();
    const edit = nextEdit(this.#text.length, this.#options.targetSize, makeStamp(this.#spec.instance, sentAt), this.#options.random);
    // In normal form (the edit puts its delete before its insert), judged against the document once.
    const op = this.#text.validate(editToTextOp(edit));
    this.#text = this.#text.apply(op);
    this.#seq += 1;
    this.#inFlight = { op, seq: this.#seq, sentAt, resends: 0 };
    this.#send(this.#inFlight);
  }

  #send(inFlight: InFlight): void {
    this.#socket?.send(JSON.stringify({ type: "op", docId: this.docId, revision: this.#revision, seq: inFlight.seq, op: inFlight.op }));
  }

  start(): void {
    this.#running = true;
    this.#next();
  }

  stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#paceTimer);
    this.#paceTimer = undefined;
    if (this.#inFlight === undefined || (this.#phase !== "live" && this.#phase !== "rejoining")) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#onIdle = resolve;
    });
  }

  text(): string {
    return this.#text.toString();
  }

  waitForRevision(revision: number): Promise<void> {
    return this.#waiters.wait(this.#revision, revision);
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#setPhase("closed");
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.close(1000, "bench done");
    });
  }
}
