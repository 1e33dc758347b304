import { RuntimeError } from "../errors.ts";
import type { ContainerConfig } from "./oci-schemas.ts";

const SUPPORTED = [
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "LABEL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
];

/**
 * Applies one Dockerfile-style `--change` line (`image import`, `container commit`) to an image's
 * run config: CMD and ENTRYPOINT in JSON or shell form, ENV and LABEL as `k=v` pairs (or the
 * legacy `ENV k v`), EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL. Anything else is refused with the
 * list of what is understood; nothing is changed on error.
 */
export function applyConfigChange(config: ContainerConfig, line: string): ContainerConfig {
  const text = line.trim();
  const space = text.search(/\s/);
  const instruction = (space < 0 ? text : text.slice(0, space)).toUpperCase();
  const rest = space < 0 ? "" : text.slice(space).trim();
  const fail = (why: string) =>
    new RuntimeError("INVALID_ARGUMENT", `invalid --change ${JSON.stringify(line)}: ${why}`);
  if (!SUPPORTED.includes(instruction)) {
    throw fail(`${instruction || "(empty)"} is not one of ${SUPPORTED.join(", ")}`);
  }
  if (rest === "") throw fail(`${instruction} needs an argument`);
  const next: ContainerConfig = { ...config };
  switch (instruction) {
    case "CMD":
      next.Cmd = commandForm(rest);
      break;
    case "ENTRYPOINT":
      next.Entrypoint = commandForm(rest);
      break;
    case "ENV": {
      const env = new Map((config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e]));
      for (const [k, v] of keyValues(rest, fail)) env.set(k, `${k}=${v}`);
      next.Env = [...env.values()];
      break;
    }
    case "LABEL":
      next.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(keyValues(rest, fail)) };
      break;
    case "EXPOSE": {
      const ports = { ...(config.ExposedPorts ?? {}) };
      for (const p of rest.split(/\s+/)) {
        if (!/^\d{1,5}(\/(tcp|udp))?$/.test(p))
          throw fail(`${p} is not a port such as 8080 or 53/udp`);
        ports[p.includes("/") ? p : `${p}/tcp`] = {};
      }
      next.ExposedPorts = ports;
      break;
    }
    case "VOLUME": {
      const volumes = { ...(config.Volumes ?? {}) };
      const paths = rest.startsWith("[") ? jsonArray(rest, fail) : rest.split(/\s+/);
      for (const p of paths) {
        if (!p.startsWith("/")) throw fail(`volume ${p} is not an absolute path`);
        volumes[p] = {};
      }
      next.Volumes = volumes;
      break;
    }
    case "WORKDIR":
      next.WorkingDir = rest;
      break;
    case "USER":
      next.User = rest;
      break;
    case "STOPSIGNAL":
      next.StopSignal = rest;
      break;
  }
  return next;
}

/** JSON (exec) form when it parses as an array of strings, else shell form. */
function commandForm(rest: string): string[] {
  if (rest.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(rest);
      if (Array.isArray(parsed) && parsed.every((a) => typeof a === "string")) return parsed;
    } catch {
      // Not JSON: Docker then takes the text as a shell command, brackets and all.
    }
  }
  return ["/bin/sh", "-c", rest];
}

function jsonArray(rest: string, fail: (why: string) => Error): string[] {
  try {
    const parsed: unknown = JSON.parse(rest);
    if (Array.isArray(parsed) && parsed.every((a) => typeof a === "string")) return parsed;
  } catch {
    // reported below
  }
  throw fail("expected a JSON array of strings");
}

/** `a=1 "b=two words" c="x y"` or the legacy single `key value`. */
function keyValues(rest: string, fail: (why: string) => Error): [string, string][] {
  if (!/^[^\s=]+=/.test(rest)) {
    const space = rest.search(/\s/);
    if (space < 0) throw fail(`expected KEY=VALUE or KEY VALUE`);
    return [[rest.slice(0, space), rest.slice(space).trim()]];
  }
  const out: [string, string][] = [];
  const re = /\s*([^\s=]+)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/y;
  let last = 0;
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, "$1") : (m[4] ?? m[5] ?? "");
    out.push([m[1] as string, value]);
    last = re.lastIndex;
  }
  if (rest.slice(last).trim() !== "")
    throw fail(`cannot read ${JSON.stringify(rest.slice(last).trim())} as KEY=VALUE`);
  return out;
}
