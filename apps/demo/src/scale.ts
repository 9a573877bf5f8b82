/**
 * `node dist/scale.js` (`pnpm demo:scale` from the repository root): two demo instances, on
 * ports 3001 and 3002, sharing one Redis: the one in REDIS_URL, or a redis-server started here
 * on a free port. Each instance is its own process, so stopping one (`kill -TERM <pid>`) is a
 * real instance going away: its clients are closed with 1001 and, given both URLs, move on.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startRedisServer, type RedisServer } from "@open-ot/harness";

const HELP = `Usage: node dist/scale.js [--ports 3001,3002] [--redis URL] [demo options...]

Starts one demo instance per port, all sharing one Redis (REDIS_URL or --redis; without either,
a redis-server is started on a free port and stopped on exit). Other options (--doc, --host,
--rate-limit, ...) are passed to every instance; see node dist/main.js --help.
Stop an instance with kill -TERM <pid> to watch its clients move to the other one.`;

interface ScaleArgs {
  readonly ports: readonly number[];
  readonly redisUrl: string | undefined;
  readonly forwarded: readonly string[];
}

/** Split the arguments into the scaler's own and those for the instances. */
function parseScaleArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ScaleArgs | "help" {
  let ports = env["SCALE_PORTS"] ?? "3001,3002";
  let redisUrl = env["REDIS_URL"] === "" ? undefined : env["REDIS_URL"];
  const forwarded: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] =
      arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value.`);
      return v;
    };
    if (name === "--help" || name === "-h") return "help";
    else if (name === "--ports") ports = value();
    else if (name === "--redis") redisUrl = value();
    else if (name === "--port") throw new Error("Use --ports 3001,3002 to choose the instances' ports.");
    else forwarded.push(arg);
  }
  const list = ports.split(",").map((p) => Number(p.trim()));
  if (list.length === 0 || list.some((p) => !Number.isInteger(p) || p < 1 || p > 65535) || new Set(list).size !== list.length) {
    throw new Error(`--ports ${ports}: give distinct port numbers separated by commas, such as 3001,3002.`);
  }
  return { ports: list, redisUrl, forwarded };
}

interface Instance {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Resolves with the URL the instance printed once it listens. */
  readonly ready: Promise<string>;
}

function startInstance(port: number, redisUrl: string, forwarded: readonly string[]): Instance {
  const main = fileURLToPath(new URL("./main.js", import.meta.url));
  const child = spawn(process.execPath, [main, "--port", String(port), ...forwarded], {
    env: { ...process.env, REDIS_URL: redisUrl, PORT: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let markReady: (url: string) => void = () => undefined;
  let markFailed: (error: Error) => void = () => undefined;
  const ready = new Promise<string>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  const prefix = `[${port}] `;
  for (const [stream, write] of [
    [child.stdout, (line: string) => console.log(prefix + line)],
    [child.stderr, (line: string) => console.error(prefix + line)],
  ] as const) {
    createInterface({ input: stream }).on("line", (line) => {
      write(line);
      const match = /listening on (\S+)/.exec(line);
      if (match?.[1] !== undefined) markReady(match[1]);
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      markFailed(new Error(`the instance on port ${port} exited (code ${code}) before listening; see its output above.`));
      resolve(code);
    });
  });
  return { port, child, exited, ready };
}

async function main(): Promise<void> {
  let args: ScaleArgs | "help";
  try {
    args = parseScaleArgs(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`open-ot demo:scale: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
    return;
  }
  if (args === "help") {
    console.log(HELP);
    return;
  }
  let redis: RedisServer | undefined;
  let redisUrl = args.redisUrl;
  if (redisUrl === undefined) {
    redis = await startRedisServer().catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; or set REDIS_URL to a Redis you run.`);
    });
    redisUrl = redis.url;
    console.log(`Started redis-server (pid ${redis.pid}) at ${redisUrl}; it is stopped on exit.`);
  } else {
    console.log(`Using Redis at ${redisUrl}.`);
  }

  const instances = args.ports.map((port) => startInstance(port, redisUrl, args.forwarded));
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const instance of instances) {
      if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill("SIGTERM");
    }
    await Promise.all(instances.map((i) => i.exited));
    await redis?.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      console.log(`${signal}: stopping every instance...`);
      void stopAll().then(() => process.exit(0));
    });
  }
  for (const instance of instances) {
    void instance.exited.then((code) => {
      if (stopping) return;
      console.log(
        `Instance on port ${instance.port} exited (code ${code}). Its clients moved to the others. ` +
          `Start it again with: REDIS_URL=${redisUrl} node ${fileURLToPath(new URL("./main.js", import.meta.url))} --port ${instance.port}`,
      );
      if (instances.every((i) => i.child.exitCode !== null || i.child.signalCode !== null)) {
        console.log("Every instance has exited.");
        void stopAll().then(() => process.exit(1));
      }
    });
  }

  let urls: string[];
  try {
    urls = await Promise.all(instances.map((i) => i.ready));
  } catch (error) {
    console.error(`open-ot demo:scale: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll();
    process.exitCode = 1;
    return;
  }
  const servers = urls.join(",");
  console.log("");
  console.log(`${urls.length} instances share ${redisUrl}:`);
  for (const [i, url] of urls.entries()) console.log(`  ${url}/   (pid ${instances[i]?.child.pid})`);
  console.log("Type on one, watch it appear on the other. A page that knows every instance moves on when its own stops:");
  console.log(`  ${urls[0]}/?servers=${servers}`);
  console.log(`  ${urls[urls.length - 1]}/?transport=sse&servers=${[...urls].reverse().join(",")}`);
  console.log("Ctrl-C stops everything.");
}

main().catch((error: unknown) => {
  console.error(`open-ot demo:scale: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
