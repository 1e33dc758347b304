import { readFileSync } from "node:fs";
import { RuntimeError } from "../errors.ts";
import { type SeccompProfile, seccompProfileSchema } from "./seccomp/profile-schema.ts";

/** Which seccomp policy a container gets. */
export type SeccompChoice =
  | { mode: "default" }
  | { mode: "unconfined" }
  | { mode: "profile"; path: string; profile: SeccompProfile };

export interface SecurityOptions {
  seccomp: SeccompChoice;
  /** Berth sets no_new_privs unless told `no-new-privileges=false`. */
  noNewPrivileges: boolean;
}

export type ReadFile = (path: string) => string;

const defaultReadFile: ReadFile = (path) => readFileSync(path, "utf8");

/**
 * `--security-opt` values, Docker's spellings: `seccomp=unconfined`, `seccomp=builtin` (the default
 * profile), `seccomp=PATH` (a profile in Docker's JSON format, read now, as Docker's client does),
 * `no-new-privileges[=true|false]`; `:` works in place of `=`. Anything else is refused.
 */
export function parseSecurityOpts(
  values: readonly string[],
  readFile: ReadFile = defaultReadFile,
): SecurityOptions {
  const options: SecurityOptions = { seccomp: { mode: "default" }, noNewPrivileges: true };
  for (const raw of values) {
    const sep = raw.search(/[=:]/);
    const key = sep < 0 ? raw : raw.slice(0, sep);
    const value = sep < 0 ? undefined : raw.slice(sep + 1);
    if (key === "no-new-privileges") {
      if (value === undefined || value === "true") options.noNewPrivileges = true;
      else if (value === "false") options.noNewPrivileges = false;
      else throw invalid(raw, "no-new-privileges takes true or false");
    } else if (key === "seccomp") {
      if (!value)
        throw invalid(raw, "expected seccomp=unconfined, seccomp=builtin or seccomp=PROFILE.json");
      if (value === "unconfined") options.seccomp = { mode: "unconfined" };
      else if (value === "builtin") options.seccomp = { mode: "default" };
      else
        options.seccomp = {
          mode: "profile",
          path: value,
          profile: loadSeccompProfile(value, readFile),
        };
    } else {
      throw invalid(raw, "supported options are seccomp=… and no-new-privileges");
    }
  }
  return options;
}

/** Reads and validates a seccomp profile file in Docker's format; one-line errors. */
export function loadSeccompProfile(
  path: string,
  readFile: ReadFile = defaultReadFile,
): SeccompProfile {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new RuntimeError("INVALID_ARGUMENT", `cannot read seccomp profile ${path}: ${code}`, {
      path,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `seccomp profile ${path} is not valid JSON: ${(e as Error).message}`,
      { path },
    );
  }
  const parsed = seccompProfileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `invalid seccomp profile ${path}: ${where}${issue.message}`,
      {
        path,
      },
    );
  }
  return parsed.data;
}

function invalid(value: string, why: string): RuntimeError {
  return new RuntimeError(
    "INVALID_ARGUMENT",
    `invalid argument "${value}" for --security-opt: ${why}`,
  );
}
