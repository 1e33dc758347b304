import { RuntimeError } from "../errors.ts";
import { type RunOptions, runOptionsSchema } from "../spec/run-options.ts";
import type { ResolvedUser } from "../spec/user-resolver.ts";

/**
 * What `run`/`create` take: the `RunOptions` that `parseRunOptions` returns, where every field but
 * `rootfs` and `command` may be left out and then gets the command line's default (Docker's:
 * `--network bridge`, no limits, Docker's capabilities and seccomp profile).
 */
export type RunInput = Partial<RunOptions> & Pick<RunOptions, "rootfs" | "command">;

/**
 * The engine's first input shape, still accepted so that callers written against it keep working:
 * `args` for the command, numeric `uid`/`gid`, `mounts`, `memoryBytes`, `cpus`, `autoRemove`, and
 * `network` none (its default) or host.
 * @deprecated pass RunInput.
 */
export interface LegacyRunInput {
  rootfs: string;
  args: string[];
  name?: string;
  env?: string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  additionalGids?: number[];
  hostname?: string;
  network?: "none" | "host" | "bridge";
  mounts?: { source: string; destination: string; readonly?: boolean }[];
  memoryBytes?: number;
  cpus?: number;
  pidsLimit?: number;
  autoRemove?: boolean;
}

/** The command line's defaults for every optional field (`berth container run --rootfs R CMD`). */
const DEFAULTS: Omit<RunOptions, "rootfs" | "command"> = {
  detach: false,
  rm: false,
  interactive: false,
  tty: false,
  env: [],
  volumes: [],
  ports: [],
  network: "bridge",
  restart: { name: "no" },
  capAdd: [],
  capDrop: [],
  security: { seccomp: { mode: "default" }, noNewPrivileges: true },
};

/** Validated options, plus the user when a legacy caller already resolved it to numbers. */
export interface EngineRunRequest {
  options: RunOptions;
  user?: ResolvedUser;
}

/** Fills defaults and validates API input; a bad field is one INVALID_ARGUMENT line. */
export function toRunRequest(input: RunInput | LegacyRunInput): EngineRunRequest {
  const legacy = "args" in input && !("command" in input);
  const { options: partial, user } = legacy
    ? fromLegacy(input as LegacyRunInput)
    : { options: input as RunInput, user: undefined };
  const parsed = runOptionsSchema.safeParse({ ...DEFAULTS, ...dropUndefined(partial) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `invalid run options: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      { issues: parsed.error.issues },
    );
  }
  return { options: parsed.data, ...(user ? { user } : {}) };
}

function fromLegacy(o: LegacyRunInput): { options: RunInput; user?: ResolvedUser } {
  const options: RunInput = {
    rootfs: o.rootfs,
    command: o.args,
    name: o.name,
    env: o.env,
    workdir: o.cwd,
    hostname: o.hostname,
    network: o.network ?? "none",
    volumes: o.mounts?.map((m) => ({
      source: m.source,
      destination: m.destination,
      readonly: m.readonly ?? false,
    })),
    memory: o.memoryBytes,
    nanoCpus: o.cpus === undefined ? undefined : Math.round(o.cpus * 1e9),
    pidsLimit: o.pidsLimit,
    rm: o.autoRemove,
  };
  if (o.uid === undefined && o.gid === undefined) return { options };
  const uid = o.uid ?? 0;
  return {
    options: { ...options, user: { user: { id: uid }, group: { id: o.gid ?? 0 } } },
    user: { uid, gid: o.gid ?? 0, additionalGids: o.additionalGids ?? [], home: "/" },
  };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
