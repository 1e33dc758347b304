import path from "node:path";
import { parseArgs } from "node:util";
import { buildImage } from "@berth/builder/build";
import { BuildError } from "@berth/builder/build-error";
import { DockerfileSyntaxError } from "@berth/builder/dockerfile-ast";
import { connectEngine } from "@berth/runtime/daemon";
import { CliUsageError } from "../cli-error.ts";
import type { CliEnv } from "../env.ts";
import { engineDaemonSettings } from "../operator/engine-daemon.ts";

const USAGE =
  "berth image build [-t NAME[:TAG]] [-f Dockerfile] [--build-arg K=V]… [--target STAGE] [--no-cache] [--network bridge|none] DIR";

/** `berth image build`: a Dockerfile into the engine's image store, step by step. */
export async function runImageBuild(args: string[], env: CliEnv): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (e) {
    throw new CliUsageError(`${(e as Error).message}\nusage: ${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new CliUsageError(`usage: ${USAGE}`);
  const contextDir = path.resolve(positionals[0] as string);
  const buildArgs: Record<string, string> = {};
  for (const a of values["build-arg"] ?? []) {
    const eq = a.indexOf("=");
    if (eq > 0) buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
    else if (process.env[a] !== undefined) buildArgs[a] = process.env[a] as string;
  }
  const network = values.network ?? "bridge";
  if (network !== "bridge" && network !== "none")
    throw new CliUsageError(`--network takes bridge or none, not ${network}`);
  const client = await connectEngine(engineDaemonSettings(env));
  try {
    const result = await buildImage(client, {
      contextDir,
      ...(values.file ? { dockerfile: path.resolve(values.file) } : {}),
      ...(values.tag ? { tag: values.tag } : {}),
      buildArgs,
      ...(values.target ? { target: values.target } : {}),
      noCache: values["no-cache"] ?? false,
      network,
      onLine: (line) => process.stdout.write(`${line}\n`),
    });
    void result;
    return 0;
  } catch (e) {
    if (e instanceof BuildError || e instanceof DockerfileSyntaxError) {
      process.stderr.write(`berth: build failed: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      tag: { type: "string", short: "t" },
      file: { type: "string", short: "f" },
      "build-arg": { type: "string", multiple: true },
      target: { type: "string" },
      "no-cache": { type: "boolean" },
      network: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
}
