import { runLoad } from "./scenarios/load-run.js";
const system = (process.argv[2] ?? "relay") as "relay";
const clients = Number(process.argv[3] ?? 10);
const r = await runLoad({ system, clients, seconds: 3 });
console.log(JSON.stringify(r, null, 1));
