import { checkNumberOption } from "@open-ot/core";

/**
 * The `seq` numbers of one `clientId`. The documents of one connection share one counter, so a
 * `seq` names one op of the client whichever its document (an error that names a `seq` but no
 * `docId` is then about exactly one document).
 */
export class SeqCounter {
  #last: number;

  /** @param last The last `seq` this `clientId` used (when resuming a persisted identity). @default 0 */
  constructor(last = 0) {
    this.#last = checkNumberOption("SeqCounter", "lastSeq", last, { min: 0, integer: true });
  }

  /** The last `seq` handed out. */
  get last(): number {
    return this.#last;
  }

  /** The next `seq`. */
  next(): number {
    return ++this.#last;
  }
}
