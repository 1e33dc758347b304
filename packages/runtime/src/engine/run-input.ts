import { RuntimeError } from "../errors.ts";
import { type RunOptions, runOptionsSchema } from "../spec/run-options.ts";

/**
 * What `run`/`create` take: the `RunOptions` that `parseRunOptions` returns, where every field may
 * be left out and then gets the command line's default (Docker's: `--network bridge`, no limits,
 * Docker's capabilities and seccomp profile) — but an image or a rootfs must be named, and a
 * rootfs needs a command.
 */
export type RunInput = Partial<RunOptions>;

/** The command line's defaults for every optional field (`berth container run IMAGE`). */
const DEFAULTS: Omit<RunOptions, "rootfs" | "image"> = {
  command: [],
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

/** Validated options, as the engine records and executes them. */
export interface EngineRunRequest {
  options: RunOptions;
}

/** Fills defaults and validates API input; a bad field is one INVALID_ARGUMENT line. */
export function toRunRequest(input: RunInput): EngineRunRequest {
  const parsed = runOptionsSchema.safeParse({ ...DEFAULTS, ...dropUndefined(input) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `invalid run options: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      { issues: parsed.error.issues },
    );
  }
  const options = parsed.data;
  if ((options.image === undefined) === (options.rootfs === undefined)) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      "invalid run options: give either an image or a rootfs directory",
    );
  }
  if (options.rootfs !== undefined && options.command.length === 0) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      "invalid run options: a rootfs container needs a command",
    );
  }
  return { options };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
