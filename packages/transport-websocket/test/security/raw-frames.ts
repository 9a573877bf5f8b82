// Client frames written by hand (RFC 6455: masked), and a reader for the server's unmasked
// frames, for what the ws client will not do: fragment a message into many frames.
import type { Socket } from "node:net";

const MASK = Buffer.from([0x12, 0x34, 0x56, 0x78]);

/** One masked client frame. `opcode` 1 starts a text message, 0 continues one. */
export function clientFrame(opcode: number, payload: Buffer, fin: boolean): Buffer {
  const header =
    payload.length < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length])
      : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ MASK[i % 4]!));
  return Buffer.concat([header, MASK, masked]);
}

/** `text` as a message of `fragments` frames (the last one takes what is left). */
export function fragmentedText(text: string, fragments: number): Buffer {
  const bytes = Buffer.from(text);
  const size = Math.floor(bytes.length / fragments);
  const frames: Buffer[] = [];
  for (let i = 0; i < fragments; i++) {
    const last = i === fragments - 1;
    frames.push(clientFrame(i === 0 ? 1 : 0, bytes.subarray(i * size, last ? bytes.length : (i + 1) * size), last));
  }
  return Buffer.concat(frames);
}

/** A frame the server sent. */
export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Collects the server's frames from an upgraded raw socket (after the 101 head). */
export function readServerFrames(socket: Socket, alreadyReceived: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let pending = alreadyReceived;
  const parse = (): void => {
    for (;;) {
      if (pending.length < 2) return;
      let length = pending[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (pending.length < 4) return;
        length = pending.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (pending.length < 10) return;
        length = Number(pending.readBigUInt64BE(2));
        offset = 10;
      }
      if (pending.length < offset + length) return;
      frames.push({ opcode: pending[0]! & 0x0f, payload: pending.subarray(offset, offset + length) });
      pending = pending.subarray(offset + length);
    }
  };
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    parse();
  });
  parse();
  return frames;
}

/** The code and reason of a close frame. */
export function closeOf(frame: ServerFrame): { code: number; reason: string } {
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString("utf8") };
}
