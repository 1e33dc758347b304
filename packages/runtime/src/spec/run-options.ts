import { readFileSync } from "node:fs";
import { z } from "zod";
import { RuntimeError } from "../errors.ts";
import { type CapabilityName, normalizeCapabilityName } from "../security/capabilities.ts";
import { seccompProfileSchema } from "../security/seccomp/profile-schema.ts";
import { parseSecurityOpts, type SecurityOptions } from "../security/security-opt.ts";
import { type HostEnv, mergeEnv, parseEnvAssignment, parseEnvFile } from "./env.ts";
import { invalidArgument } from "./flag-value.ts";
import {
  containerNameSchema,
  hostnameSchema,
  networkModeSchema,
  parseContainerName,
  parseHostname,
  parseNetworkMode,
  parseWorkdir,
} from "./names.ts";
import { capabilityNameSchema } from "./oci-schema.ts";
import { type PortMapping, parsePortMapping, portMappingSchema } from "./port-mapping.ts";
import {
  parseCpuShares,
  parseCpus,
  parseMemory,
  parseMemorySwap,
  parsePidsLimit,
} from "./resource-values.ts";
import { parseRestartPolicy, restartPolicySchema } from "./restart-policy.ts";
import { parseStopSignal, parseStopTimeout } from "./stop-options.ts";
import { parseUserSpec, userSpecSchema } from "./user-spec.ts";
import { parseVolume, type VolumeMount, volumeMountSchema } from "./volume-mount.ts";

/** Options of `berth container run`, parsed: the structured form the engine and API take. */
export const runOptionsSchema = z.object({
  detach: z.boolean(),
  rm: z.boolean(),
  interactive: z.boolean(),
  tty: z.boolean(),
  /**
   * -t: the caller's terminal size, set on the container's pty before the app runs (Docker's
   * ConsoleSize); 80×24 when absent. Later changes come as resizes of the attached session.
   */
  consoleSize: z
    .strictObject({ cols: z.number().int().positive(), rows: z.number().int().positive() })
    .optional(),
  name: containerNameSchema.optional(),
  /** `NAME=value` entries from --env-file then -e, later ones replacing earlier ones. */
  env: z.array(z.string().regex(/^[^=]+=/)),
  workdir: z.string().startsWith("/").optional(),
  user: userSpecSchema.optional(),
  hostname: hostnameSchema.optional(),
  /** Bytes. */
  memory: z.number().int().positive().optional(),
  /** Memory plus swap in bytes, -1 for unlimited; Docker's default is twice `memory`. */
  memorySwap: z.number().int().min(-1).optional(),
  /** Billionths of a CPU (`--cpus 0.5` → 500000000). */
  nanoCpus: z.number().int().positive().optional(),
  cpuShares: z.number().int().min(2).max(262144).optional(),
  pidsLimit: z.number().int().positive().optional(),
  volumes: z.array(volumeMountSchema),
  ports: z.array(portMappingSchema),
  network: networkModeSchema,
  /** A root filesystem directory (the overlay's one lower layer); or else `image`. */
  rootfs: z.string().min(1).optional(),
  /** An image of the store, by name, name:tag, ID or ID prefix; or else `rootfs`. */
  image: z.string().min(1).optional(),
  /** --entrypoint: replaces the image's Entrypoint and clears its Cmd ([] for `--entrypoint ""`). */
  entrypoint: z.array(z.string()).optional(),
  restart: restartPolicySchema,
  stopSignal: z.number().int().min(1).max(64).optional(),
  stopTimeout: z.number().int().nonnegative().optional(),
  capAdd: z.array(z.union([capabilityNameSchema, z.literal("ALL")])),
  capDrop: z.array(z.union([capabilityNameSchema, z.literal("ALL")])),
  security: z.object({
    seccomp: z.discriminatedUnion("mode", [
      z.object({ mode: z.literal("default") }),
      z.object({ mode: z.literal("unconfined") }),
      z.object({ mode: z.literal("profile"), path: z.string(), profile: seccompProfileSchema }),
    ]),
    noNewPrivileges: z.boolean(),
  }),
  /** After the image (or --rootfs DIR): replaces the image's Cmd; required with --rootfs. */
  command: z.array(z.string()),
});
export type RunOptions = z.infer<typeof runOptionsSchema>;

/** What parsing needs from the outside world; the runtime never reads process.env itself. */
export interface RunOptionsContext {
  /** For bare `-e NAME` and env-file `NAME` lines. */
  hostEnv?: HostEnv;
  /** Reads --env-file and seccomp profile files; fs.readFileSync by default. */
  readFile?: (path: string) => Uint8Array;
  /** Upper bound for --cpus. */
  hostCpus?: number;
}

type Kind = "bool" | "value";
interface FlagDef {
  long: string;
  kind: Kind;
}

const FLAGS: FlagDef[] = [
  { long: "--detach", kind: "bool" },
  { long: "--rm", kind: "bool" },
  { long: "--interactive", kind: "bool" },
  { long: "--tty", kind: "bool" },
  { long: "--name", kind: "value" },
  { long: "--env", kind: "value" },
  { long: "--env-file", kind: "value" },
  { long: "--workdir", kind: "value" },
  { long: "--user", kind: "value" },
  { long: "--hostname", kind: "value" },
  { long: "--memory", kind: "value" },
  { long: "--memory-swap", kind: "value" },
  { long: "--cpus", kind: "value" },
  { long: "--cpu-shares", kind: "value" },
  { long: "--pids-limit", kind: "value" },
  { long: "--volume", kind: "value" },
  { long: "--publish", kind: "value" },
  { long: "--network", kind: "value" },
  { long: "--rootfs", kind: "value" },
  { long: "--entrypoint", kind: "value" },
  { long: "--restart", kind: "value" },
  { long: "--stop-signal", kind: "value" },
  { long: "--stop-timeout", kind: "value" },
  { long: "--cap-add", kind: "value" },
  { long: "--cap-drop", kind: "value" },
  { long: "--security-opt", kind: "value" },
];

const SHORT: Record<string, string> = {
  d: "--detach",
  i: "--interactive",
  t: "--tty",
  e: "--env",
  w: "--workdir",
  u: "--user",
  h: "--hostname",
  m: "--memory",
  c: "--cpu-shares",
  v: "--volume",
  p: "--publish",
};

const ALIASES: Record<string, string> = { "--net": "--network" };

const BY_LONG = new Map(FLAGS.map((f) => [f.long, f]));

/**
 * Parses `berth container run` arguments the way Docker's command line reads them: `--flag value`,
 * `--flag=value`, `-m256m`, bundled booleans (`-dit`), `--` to end the options; the first
 * argument that is not an option starts the command. Every bad value throws INVALID_ARGUMENT with
 * one line naming the flag.
 */
export function parseRunOptions(
  argv: readonly string[],
  context: RunOptionsContext = {},
): RunOptions {
  const seen: { flag: string; value: string }[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = ALIASES[eq < 0 ? arg : arg.slice(0, eq)] ?? (eq < 0 ? arg : arg.slice(0, eq));
      const def = BY_LONG.get(name);
      if (!def) throw usage(`unknown flag: ${eq < 0 ? arg : arg.slice(0, eq)}`);
      if (def.kind === "bool") {
        const value = eq < 0 ? "true" : arg.slice(eq + 1);
        if (value !== "true" && value !== "false") throw usage(`flag ${name} takes true or false`);
        seen.push({ flag: name, value });
      } else if (eq >= 0) {
        seen.push({ flag: name, value: arg.slice(eq + 1) });
      } else {
        if (i + 1 >= argv.length) throw usage(`flag needs an argument: ${name}`);
        seen.push({ flag: name, value: argv[++i]! });
      }
      continue;
    }
    // Short options: bundled booleans, and a value either attached or in the next argument.
    for (let j = 1; j < arg.length; j++) {
      const long = SHORT[arg[j]!];
      if (!long) throw usage(`unknown shorthand flag: '${arg[j]}' in ${arg}`);
      if (BY_LONG.get(long)!.kind === "bool") {
        seen.push({ flag: long, value: "true" });
        continue;
      }
      let value = arg.slice(j + 1);
      if (value.startsWith("=")) value = value.slice(1);
      else if (value === "") {
        if (i + 1 >= argv.length) throw usage(`flag needs an argument: '${arg[j]}' in -${arg[j]}`);
        value = argv[++i]!;
      }
      seen.push({ flag: long, value });
      break;
    }
  }
  return buildRunOptions(seen, argv.slice(i), context);
}

function buildRunOptions(
  seen: { flag: string; value: string }[],
  command: string[],
  context: RunOptionsContext,
): RunOptions {
  const hostEnv = context.hostEnv ?? {};
  const readFile = context.readFile ?? ((p: string) => readFileSync(p));
  const all = (flag: string) => seen.filter((s) => s.flag === flag).map((s) => s.value);
  const last = (flag: string) => all(flag).at(-1);
  const bool = (flag: string) => last(flag) === "true";
  const optional = <T>(flag: string, parse: (v: string) => T): T | undefined => {
    const v = last(flag);
    return v === undefined ? undefined : parse(v);
  };

  const fromFiles = all("--env-file").flatMap((file) => {
    let content: Uint8Array;
    try {
      content = readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new RuntimeError("INVALID_ARGUMENT", `cannot read env file ${file}: ${code}`, { file });
    }
    return parseEnvFile(content, file, hostEnv);
  });
  const fromFlags = all("--env").flatMap((v) => parseEnvAssignment(v, hostEnv) ?? []);

  const volumes = all("--volume").map(parseVolume);
  assertUniqueDestinations(volumes);
  const ports = all("--publish").map(parsePortMapping);
  assertUniqueHostPorts(ports);

  const memory = optional("--memory", parseMemory);
  const memorySwap = optional("--memory-swap", parseMemorySwap);
  if (memorySwap !== undefined) {
    if (memory === undefined) throw usage("--memory-swap needs --memory as well");
    if (memorySwap !== -1 && memorySwap < memory) {
      throw usage("--memory-swap must be at least --memory (it counts memory plus swap)");
    }
  }

  const rootfs = last("--rootfs");
  let image: string | undefined;
  if (rootfs === undefined) {
    image = command.shift();
    if (image === undefined || image === "") {
      throw usage(
        "missing image: berth container run [OPTIONS] IMAGE [COMMAND] (or --rootfs DIR COMMAND)",
      );
    }
  } else if (rootfs === "") {
    throw usage("--rootfs needs a directory");
  } else if (command.length === 0) {
    throw usage("missing command: give the program to run after --rootfs DIR and the options");
  }

  const security: SecurityOptions = parseSecurityOpts(all("--security-opt"), (p) =>
    Buffer.from(readFile(p)).toString("utf8"),
  );

  const options: RunOptions = {
    detach: bool("--detach"),
    rm: bool("--rm"),
    interactive: bool("--interactive"),
    tty: bool("--tty"),
    name: optional("--name", parseContainerName),
    env: mergeEnv(fromFiles, fromFlags),
    workdir: optional("--workdir", parseWorkdir),
    user: optional("--user", parseUserSpec),
    hostname: optional("--hostname", parseHostname),
    memory,
    memorySwap,
    nanoCpus: optional("--cpus", (v) => parseCpus(v, context.hostCpus)),
    cpuShares: optional("--cpu-shares", parseCpuShares),
    pidsLimit: optional("--pids-limit", parsePidsLimit),
    volumes,
    ports,
    network: optional("--network", parseNetworkMode) ?? "bridge",
    rootfs,
    image,
    entrypoint: optional("--entrypoint", (v) => (v === "" ? [] : [v])),
    restart: optional("--restart", parseRestartPolicy) ?? { name: "no" },
    stopSignal: optional("--stop-signal", parseStopSignal),
    stopTimeout: optional("--stop-timeout", parseStopTimeout),
    capAdd: all("--cap-add").map((v) => parseCapabilityFlag("--cap-add", v)),
    capDrop: all("--cap-drop").map((v) => parseCapabilityFlag("--cap-drop", v)),
    security,
    command,
  };
  if (options.rm && options.restart.name !== "no") {
    throw usage("--rm and --restart cannot be used together");
  }
  if (options.network === "host" && options.ports.length > 0) {
    throw usage("-p has no effect with --network host: the container uses the host's ports");
  }
  // Drop the keys left undefined so that the object reads like what was asked for.
  for (const key of Object.keys(options) as (keyof RunOptions)[]) {
    if (options[key] === undefined) delete options[key];
  }
  return options;
}

function parseCapabilityFlag(flag: string, value: string): CapabilityName | "ALL" {
  if (value.trim().toUpperCase() === "ALL") return "ALL";
  try {
    return normalizeCapabilityName(value);
  } catch {
    throw invalidArgument(
      flag,
      value,
      "unknown capability; expected a name such as NET_ADMIN, or ALL",
    );
  }
}

function assertUniqueDestinations(volumes: VolumeMount[]): void {
  const seen = new Set<string>();
  for (const v of volumes) {
    if (seen.has(v.destination)) throw usage(`duplicate mount point: ${v.destination}`);
    seen.add(v.destination);
  }
}

function assertUniqueHostPorts(ports: PortMapping[]): void {
  const seen = new Set<string>();
  for (const p of ports) {
    const key = `${p.hostIp ?? "*"}:${p.hostPort}/${p.protocol}`;
    if (seen.has(key)) throw usage(`host port ${p.hostPort}/${p.protocol} is published twice`);
    seen.add(key);
  }
}

function usage(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}
