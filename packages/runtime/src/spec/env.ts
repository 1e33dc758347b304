import { RuntimeError } from "../errors.ts";
import { invalidArgument } from "./flag-value.ts";

/** The host environment a bare `-e NAME` or env-file `NAME` line reads from; passed in by callers. */
export type HostEnv = Readonly<Record<string, string | undefined>>;

/**
 * `-e, --env`: `NAME=value` as given, or a bare `NAME`, which takes the host's value and is dropped
 * when the host has none (undefined is returned).
 */
export function parseEnvAssignment(value: string, hostEnv: HostEnv = {}): string | undefined {
  const eq = value.indexOf("=");
  const name = eq < 0 ? value : value.slice(0, eq);
  if (name === "") throw invalidArgument("--env", value, "the variable name is empty");
  if (value.includes("\0")) throw invalidArgument("--env", value, "must not contain NUL");
  if (eq >= 0) return value;
  const hostValue = hostEnv[name];
  return hostValue === undefined ? undefined : `${name}=${hostValue}`;
}

/**
 * `--env-file` contents in Docker's format: one `NAME=value` per line, taken literally (no quotes
 * or escapes), lines starting with `#` and blank lines ignored, leading whitespace trimmed, and a
 * bare `NAME` taking the host's value (dropped when unset). A name may not contain whitespace.
 */
export function parseEnvFile(
  content: Uint8Array | string,
  file: string,
  hostEnv: HostEnv = {},
): string[] {
  let text: string;
  try {
    text =
      typeof content === "string"
        ? content
        : new TextDecoder("utf-8", { fatal: true }).decode(content);
  } catch {
    throw envFileError(file, undefined, "is not valid UTF-8");
  }
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, "").replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const name = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    if (name === "") throw envFileError(file, i + 1, "has no variable name");
    if (/\s/.test(name)) throw envFileError(file, i + 1, `variable "${name}" contains whitespace`);
    if (line.includes("\0")) throw envFileError(file, i + 1, "contains NUL");
    if (eq >= 0) out.push(line);
    else if (hostEnv[name] !== undefined) out.push(`${name}=${hostEnv[name]}`);
  });
  return out;
}

function envFileError(file: string, line: number | undefined, why: string): RuntimeError {
  const where = line === undefined ? `env file ${file}` : `env file ${file} line ${line}`;
  return new RuntimeError("INVALID_ARGUMENT", `${where} ${why}`, { file, line });
}

/**
 * Merges env lists in order: a later `NAME=` replaces an earlier one in its original position,
 * as Docker's ReplaceOrAppendEnvValues does.
 */
export function mergeEnv(...lists: readonly (readonly string[])[]): string[] {
  const order: string[] = [];
  const values = new Map<string, string>();
  for (const list of lists) {
    for (const entry of list) {
      const eq = entry.indexOf("=");
      const name = eq < 0 ? entry : entry.slice(0, eq);
      if (!values.has(name)) order.push(name);
      values.set(name, entry);
    }
  }
  return order.map((name) => values.get(name)!);
}
