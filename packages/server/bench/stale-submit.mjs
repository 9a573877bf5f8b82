// Micro-benchmark of the commit path for stale ops (bench findings 2 and 6), without transport:
// N clients on one document, one op in flight each, submitted round-robin, so each submit is
// N - 1 revisions behind, as in `apps/bench` "hot". Ops are the load clients' edits (insert a
// stamp at a random position; once the document holds `size` characters, delete as many).
// Build first (`pnpm build`), then: node packages/server/bench/stale-submit.mjs [N ...]
// Prints server time per submit (µs); run it several times, the machine is shared.
import { seededRandom } from "../../testing/dist/seeded-random.js";
import { MemoryBackend, Server } from "../dist/index.js";

const size = 1000;
const seconds = 2;

async function run(n) {
  const server = new Server(new MemoryBackend());
  const docId = `doc-${n}`;
  await server.createDocument(docId, "text", "The quick brown fox jumps over the lazy dog. ".repeat(23).slice(0, size));
  const random = seededRandom(n);
  const lengths = [size]; // document length at each revision
  const bases = new Array(n).fill(0);
  const seqs = new Array(n).fill(0);
  let submits = 0;
  let elapsed = 0;
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    for (let c = 0; c < n; c++) {
      const base = bases[c];
      const length = lengths[base];
      const stamp = `${c}~${(1.7e12 + submits).toFixed(3)}|`;
      const op = [];
      if (length < size) {
        const position = Math.floor(random() * (length + 1));
        if (position > 0) op.push({ r: position });
      } else {
        const position = Math.floor(random() * (length - stamp.length + 1));
        if (position > 0) op.push({ r: position });
        op.push({ d: stamp.length });
      }
      op.push({ i: stamp });
      const t0 = performance.now();
      const result = await server.submitOperation(docId, op, base, { clientId: `c${c}`, seq: ++seqs[c] });
      elapsed += performance.now() - t0;
      submits++;
      const doc = lengths[lengths.length - 1];
      let delta = 0;
      for (const k of result.op) delta += "i" in k ? k.i.length : "d" in k ? -k.d : 0;
      lengths.push(doc + delta);
      bases[c] = result.revision;
    }
  }
  const text = (await server.getDocument(docId)).snapshot;
  if (text.length !== lengths[lengths.length - 1]) throw new Error("length mismatch");
  return { n, submits, usPerSubmit: (elapsed * 1000) / submits };
}

const ns = process.argv.slice(2).map(Number);
for (const n of ns.length > 0 ? ns : [1, 50, 200]) {
  const r = await run(n);
  console.log(`N=${String(r.n).padStart(3)}: ${r.usPerSubmit.toFixed(1).padStart(7)} µs/submit (${r.submits} submits)`);
}
