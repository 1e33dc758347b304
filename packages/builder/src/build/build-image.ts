import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { EngineClient } from "@berth/runtime/engine-client";
import type { ContainerConfig } from "@berth/runtime/oci-schemas";
import { readDockerIgnore } from "../context/dockerignore.ts";
import type { Instruction } from "../dockerfile/dockerfile-ast.ts";
import { expandWord, expandWords } from "../dockerfile/expand-variables.ts";
import { parseDockerfile } from "../dockerfile/parse-dockerfile.ts";
import { BuildError } from "./build-error.ts";
import { copyLayerTar, planCopy } from "./copy-layer.ts";

export interface BuildOptions {
  contextDir: string;
  /** Path of the Dockerfile; `<contextDir>/Dockerfile` by default. */
  dockerfile?: string;
  tag?: string;
  buildArgs?: Record<string, string>;
  /** The stage to build (by name); the last one by default. */
  target?: string;
  noCache?: boolean;
  /** RUN steps' network: bridge (Docker's default) or none. */
  network?: "bridge" | "none";
  onLine?: (line: string) => void;
}

interface Stage {
  name?: string;
  from: Instruction;
  steps: Instruction[];
}

const SHELL_DEFAULT = ["/bin/sh", "-c"];
const CONFIG_ONLY = new Set([
  "env",
  "label",
  "expose",
  "user",
  "workdir",
  "cmd",
  "entrypoint",
  "shell",
  "stopsignal",
  "volume",
  "healthcheck",
  "maintainer",
]);

function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** Docker durations (`30s`, `1m30s`, `500ms`) to nanoseconds, for HEALTHCHECK flags. */
function durationNs(text: string, line: number): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/gy;
  let matched = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (matched !== text.length || text === "")
    throw new BuildError(line, `invalid duration ${JSON.stringify(text)}`);
  return Math.round(total);
}

function flagValue(i: Instruction, name: string): string | undefined {
  const f = i.flags.find((x) => x.startsWith(`--${name}=`));
  return f?.slice(name.length + 3).replace(/^"(.*)"$/, "$1");
}

/**
 * Builds a Dockerfile into the engine's image store through the daemon, step by step as Docker's
 * classic builder does: every RUN in a container on the image so far (its changes committed as a
 * layer), every COPY/ADD as a layer made from the context, every other instruction as a new run
 * config. Each step's image is tagged `berth-build-cache:<key>`, the key hashing the parent image,
 * the instruction and what it reads (file contents for COPY, not mtimes), so an unchanged step is
 * reused. A failed step leaves no container; the output says which step and why.
 */
export async function buildImage(
  client: EngineClient,
  opts: BuildOptions,
): Promise<{ id: string; tag?: string }> {
  const say = opts.onLine ?? (() => {});
  const dockerfilePath = opts.dockerfile ?? path.join(opts.contextDir, "Dockerfile");
  let text: string;
  try {
    text = fs.readFileSync(dockerfilePath, "utf8");
  } catch (e) {
    throw new BuildError(
      0,
      `cannot read the Dockerfile ${dockerfilePath}: ${(e as NodeJS.ErrnoException).code}`,
    );
  }
  const parsed = parseDockerfile(text);
  const escapeChar = parsed.escape;
  const ignore = readDockerIgnore(opts.contextDir, dockerfilePath);

  // Global ARGs (before the first FROM) feed FROM lines only.
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of parsed.instructions) {
    if (ins.name === "from") {
      const asIndex = ins.args.findIndex((a) => a.toLowerCase() === "as");
      stages.push({
        from: ins,
        steps: [],
        ...(asIndex > 0 ? { name: (ins.args[asIndex + 1] as string).toLowerCase() } : {}),
      });
    } else if (stages.length === 0) {
      if (ins.name !== "arg")
        throw new BuildError(ins.startLine, `${ins.name.toUpperCase()} before the first FROM`);
      for (const a of ins.args) {
        const [k, v] = a.split(/=(.*)/s) as [string, string?];
        globalArgs[k] =
          opts.buildArgs?.[k] ?? (v !== undefined ? expandWord(v, globalArgs, escapeChar) : "");
      }
    } else (stages.at(-1) as Stage).steps.push(ins);
  }
  if (stages.length === 0) throw new BuildError(0, "the Dockerfile has no FROM");
  const targetIndex = opts.target
    ? stages.findIndex((s) => s.name === opts.target?.toLowerCase())
    : stages.length - 1;
  if (targetIndex < 0) throw new BuildError(0, `target stage ${opts.target} not found`);

  // Only the stages the target needs (FROM <stage>), in order.
  const needed = new Set<number>([targetIndex]);
  for (let i = targetIndex; i >= 0; i--) {
    if (!needed.has(i)) continue;
    const base = expandWord(stages[i]?.from.args[0] ?? "", globalArgs, escapeChar).toLowerCase();
    const j = stages.findIndex((s, k) => k < i && (s.name === base || String(k) === base));
    if (j >= 0) needed.add(j);
  }
  const order = [...needed].sort((a, b) => a - b);
  const total = order.reduce((n, i) => n + 1 + (stages[i] as Stage).steps.length, 0);
  let stepNo = 0;
  const results = new Map<number, string>();
  let final = "";

  for (const index of order) {
    const stage = stages[index] as Stage;
    const fromText = expandWord(
      stage.from.args[0] ?? "",
      globalArgs,
      escapeChar,
      stage.from.startLine,
    );
    say(`Step ${++stepNo}/${total} : FROM ${stage.from.args.join(" ")}`);
    const fromStage = stages.findIndex(
      (s, k) => k < index && (s.name === fromText.toLowerCase() || String(k) === fromText),
    );
    let current: string;
    let config: ContainerConfig;
    if (fromStage >= 0) {
      current = results.get(fromStage) as string;
      config = (await client.inspectImage(current)).config.config ?? {};
    } else if (fromText === "scratch") {
      current = "scratch";
      config = {};
    } else {
      const found = await client.inspectImage(fromText).catch(() => undefined);
      if (!found) {
        say(`Pulling ${fromText}`);
        await client.imageTransfer("pull", { ref: fromText }, (e) => {
          if (e.type === "layer") say(`${shortId(e.id)}: ${e.status}`);
        });
      }
      const image = await client.inspectImage(fromText);
      current = image.id;
      config = image.config.config ?? {};
    }
    let currentId = current === "scratch" ? "scratch" : (await client.inspectImage(current)).id;
    say(` ---> ${currentId === "scratch" ? "scratch" : shortId(currentId)}`);
    const args: Record<string, string> = {};
    let shell = SHELL_DEFAULT;

    for (const ins of stage.steps) {
      const started = Date.now();
      say(`Step ${++stepNo}/${total} : ${ins.original.trim()}`);
      const envMap = Object.fromEntries(
        (config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      );
      const scope = { ...args, ...envMap };
      const expand = (t: string) => expandWord(t, scope, escapeChar, ins.startLine);
      if (ins.name === "arg") {
        for (const a of ins.args) {
          const [k, v] = a.split(/=(.*)/s) as [string, string?];
          args[k] = opts.buildArgs?.[k] ?? globalArgs[k] ?? (v !== undefined ? expand(v) : "");
        }
        continue;
      }
      // The cache key: the parent, the instruction as it will act, and what it reads.
      const keyParts: unknown[] = [currentId, ins.name, ins.flags, ins.args, ins.json];
      let action: (tag: string) => Promise<string>;
      if (ins.name === "run") {
        const argEnv = Object.entries(args).map(([k, v]) => `${k}=${v}`);
        keyParts.push(argEnv);
        const command = ins.json ? ins.args : [...shell, ins.args[0] ?? ""];
        const network =
          (flagValue(ins, "network") as "none" | "default" | "host" | undefined) ??
          opts.network ??
          "bridge";
        action = async (tag) =>
          runStep(client, {
            image: current,
            command,
            env: [...argEnv, ...(config.Env ?? [])],
            config,
            tag,
            network: network === "default" ? "bridge" : network,
            say,
            ins,
          });
      } else if (ins.name === "copy" || ins.name === "add") {
        if (flagValue(ins, "from") !== undefined)
          throw new BuildError(ins.startLine, "COPY --from is not supported yet");
        const words = ins.args.map(expand);
        const dest = words.at(-1) as string;
        const chown = flagValue(ins, "chown");
        const chmod = flagValue(ins, "chmod");
        const owner = chown ? parseOwner(chown, ins.startLine) : undefined;
        const req = {
          contextDir: opts.contextDir,
          ignore,
          sources: words.slice(0, -1),
          // `.`, `..` and a trailing `/` name a directory to copy into, as in Docker.
          dest:
            (dest.startsWith("/") ? dest : path.posix.join(config.WorkingDir || "/", dest)) +
            (/(^|\/)\.{1,2}$|\/$/.test(dest) ? "/" : ""),
          ...(owner ? { chown: owner } : {}),
          ...(chmod ? { chmod: Number.parseInt(chmod, 8) } : {}),
          line: ins.startLine,
        };
        if (words.length < 2)
          throw new BuildError(
            ins.startLine,
            `${ins.name.toUpperCase()} needs a source and a destination`,
          );
        const plan = planCopy(req);
        keyParts.push(plan.digest);
        action = async (tag) =>
          (
            await client.appendLayer(
              current,
              copyLayerTar(req, plan.entries),
              tag,
              `${ins.name.toUpperCase()} ${words.join(" ")}`,
            )
          ).id;
      } else if (CONFIG_ONLY.has(ins.name)) {
        const next = applyConfigInstruction(config, ins, expand);
        if (ins.name === "shell") shell = ins.args;
        keyParts.push(next);
        config = next;
        const snapshot = config;
        action = async (tag) =>
          (
            await client.configureImage(current, {
              tag,
              config: snapshot,
              createdBy: ins.original.trim(),
            })
          ).id;
      } else {
        throw new BuildError(
          ins.startLine,
          `${ins.name.toUpperCase()} is not supported by this builder yet`,
        );
      }
      const key = createHash("sha256").update(JSON.stringify(keyParts)).digest("hex");
      const cacheTag = `berth-build-cache:${key}`;
      const cached = opts.noCache
        ? undefined
        : await client.inspectImage(cacheTag).catch(() => undefined);
      if (cached) {
        currentId = cached.id;
        say(" ---> Using cache");
      } else {
        currentId = await action(cacheTag);
      }
      current = cacheTag;
      if (!CONFIG_ONLY.has(ins.name))
        config = (await client.inspectImage(current)).config.config ?? config;
      say(
        ` ---> ${shortId(currentId)}${cached ? "" : ` (${((Date.now() - started) / 1000).toFixed(1)} s)`}`,
      );
    }
    results.set(index, current);
    final = current;
  }
  const finalId = (await client.inspectImage(final)).id;
  say(`Successfully built ${shortId(finalId)}`);
  if (opts.tag) {
    await client.tagImage(final, opts.tag);
    say(`Successfully tagged ${opts.tag.includes(":") ? opts.tag : `${opts.tag}:latest`}`);
  }
  return { id: finalId, ...(opts.tag ? { tag: opts.tag } : {}) };
}

function parseOwner(text: string, line: number): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw new BuildError(line, `--chown=${text}: only numeric UID[:GID] is supported yet`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

async function runStep(
  client: EngineClient,
  s: {
    image: string;
    command: string[];
    env: string[];
    config: ContainerConfig;
    tag: string;
    network: "bridge" | "none" | "host";
    say: (line: string) => void;
    ins: Instruction;
  },
): Promise<string> {
  let id = "";
  let exit = -1;
  await client.runAttached(
    {
      options: {
        image: s.image,
        command: s.command,
        entrypoint: [],
        env: s.env,
        network: s.network,
        name: `berth-build-${randomBytes(6).toString("hex")}`,
        ...(s.config.WorkingDir ? { workdir: s.config.WorkingDir } : {}),
      },
    },
    (e) => {
      if (e.type === "created") {
        id = e.id;
        s.say(` ---> Running in ${id.slice(0, 12)}`);
      } else if (e.type === "log") s.say(e.log.replace(/\n$/, ""));
      else if (e.type === "exit") exit = e.exitCode;
    },
  );
  try {
    if (exit !== 0) {
      throw new BuildError(
        s.ins.startLine,
        `the command '${s.command.join(" ")}' returned a non-zero code: ${exit}`,
      );
    }
    const image = await client.commit(id, { tag: s.tag, pause: false, config: s.config });
    return image.id;
  } finally {
    if (id) await client.remove(id, true).catch(() => undefined);
  }
}

/** ENV, LABEL, EXPOSE, USER, WORKDIR, CMD, … applied to a run config (values expanded). */
function applyConfigInstruction(
  config: ContainerConfig,
  ins: Instruction,
  expand: (t: string) => string,
): ContainerConfig {
  const next: ContainerConfig = { ...config };
  const a = ins.args;
  switch (ins.name) {
    case "env": {
      const env = new Map((config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e]));
      for (let i = 0; i + 2 < a.length + 1; i += 3) {
        const k = a[i] as string;
        env.set(k, `${k}=${expand(a[i + 1] as string)}`);
      }
      next.Env = [...env.values()];
      break;
    }
    case "label": {
      const labels = { ...(config.Labels ?? {}) };
      for (let i = 0; i + 2 < a.length + 1; i += 3)
        labels[expand(a[i] as string)] = expand(a[i + 1] as string);
      next.Labels = labels;
      break;
    }
    case "expose": {
      const ports = { ...(config.ExposedPorts ?? {}) };
      for (const p of a.flatMap((w) => expandWords(w, {})))
        ports[p.includes("/") ? p : `${p}/tcp`] = {};
      next.ExposedPorts = ports;
      break;
    }
    case "user":
      next.User = expand(a[0] ?? "");
      break;
    case "workdir": {
      const dir = expand(a[0] ?? "");
      next.WorkingDir = dir.startsWith("/") ? dir : path.posix.join(config.WorkingDir || "/", dir);
      break;
    }
    case "cmd":
      next.Cmd = ins.json ? a : [...SHELL_DEFAULT, a[0] ?? ""];
      break;
    case "entrypoint":
      next.Entrypoint = ins.json ? a : [...SHELL_DEFAULT, a[0] ?? ""];
      break;
    case "shell":
      if (!ins.json)
        throw new BuildError(ins.startLine, "SHELL requires the arguments to be in JSON form");
      break;
    case "stopsignal":
      next.StopSignal = expand(a[0] ?? "");
      break;
    case "volume": {
      const vols = { ...(config.Volumes ?? {}) };
      for (const v of a) vols[expand(v)] = {};
      next.Volumes = vols;
      break;
    }
    case "healthcheck": {
      const kind = (a[0] ?? "").toUpperCase();
      if (kind === "NONE") next.Healthcheck = { Test: ["NONE"] };
      else if (kind === "CMD") {
        const interval = flagValue(ins, "interval");
        const timeout = flagValue(ins, "timeout");
        const start = flagValue(ins, "start-period");
        const retries = flagValue(ins, "retries");
        next.Healthcheck = {
          Test: ins.json ? ["CMD", ...a.slice(1)] : ["CMD-SHELL", a.slice(1).join(" ")],
          ...(interval ? { Interval: durationNs(interval, ins.startLine) } : {}),
          ...(timeout ? { Timeout: durationNs(timeout, ins.startLine) } : {}),
          ...(start ? { StartPeriod: durationNs(start, ins.startLine) } : {}),
          ...(retries ? { Retries: Number(retries) } : {}),
        };
      } else
        throw new BuildError(
          ins.startLine,
          `HEALTHCHECK takes CMD or NONE, not ${a[0] ?? "nothing"}`,
        );
      break;
    }
    case "maintainer":
      break;
  }
  return next;
}
