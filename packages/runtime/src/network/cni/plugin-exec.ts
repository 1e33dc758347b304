import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { RuntimeError } from "../../errors.ts";
import { shortId } from "../container-id.ts";
import { type CniResult, cniErrorSchema, cniResultSchema } from "./cni-result.ts";

export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION";

/** One plugin invocation, in the terms of the CNI spec's "Parameters" section. */
export interface PluginInvocation {
  /** Plugin binary name (the config's `type`), looked up in `pluginDir`. */
  type: string;
  command: CniCommand;
  containerId: string;
  /** Path of the network namespace; empty for a DEL whose namespace is already gone. */
  netns: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs (`IgnoreUnknown=1;K=V`). */
  args?: Record<string, string>;
  /** The plugin's network configuration, written to stdin as JSON. */
  config: unknown;
}

export interface PluginExecOptions {
  /** Directories holding plugin binaries, colon-separated like CNI_PATH. */
  pluginDir: string;
  timeoutMs?: number;
}

/** Runs CNI plugins; the seam for tests of chains and of the container network. */
export type PluginRunner = (invocation: PluginInvocation) => Promise<unknown>;

// Plugins call iptables and friends; they need a PATH even if Berth's own process has a bare one.
const PLUGIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PLUGIN_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Runs one plugin per the CNI spec: argv is the binary alone, parameters go in CNI_* variables,
 * the config on stdin, and stdout carries the result (ADD, CHECK, VERSION) or an error object.
 * Resolves with the parsed stdout JSON (undefined when empty, as after DEL); rejects with a
 * NETWORK_FAILED RuntimeError naming the plugin, command, container, message and code.
 */
export function execPlugin(options: PluginExecOptions, inv: PluginInvocation): Promise<unknown> {
  const label = `CNI plugin ${inv.type} ${inv.command} for container ${shortId(inv.containerId)}`;
  const binary = findPlugin(options.pluginDir, inv.type);
  if (!binary) {
    return Promise.reject(
      new RuntimeError(
        "NETWORK_FAILED",
        `${label} failed: no executable ${JSON.stringify(inv.type)} in ${options.pluginDir} (install containernetworking-plugins)`,
        { plugin: inv.type, command: inv.command, containerId: inv.containerId },
      ),
    );
  }
  const env = {
    PATH: PLUGIN_PATH,
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifname,
    CNI_PATH: options.pluginDir,
    CNI_ARGS: Object.entries(inv.args ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(";"),
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends the iptables (or other) children it waits on.
    const child = spawn(binary, [], { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const context = { plugin: inv.type, command: inv.command, containerId: inv.containerId };
    let settled = false;
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      if (!settled) {
        settled = true;
        fn();
      }
    };
    const timer = setTimeout(() => {
      settle(() =>
        reject(
          new RuntimeError(
            "NETWORK_FAILED",
            `${label} failed: timed out after ${timeoutMs} ms`,
            context,
          ),
        ),
      );
      if (child.pid) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }
      child.stdout.destroy();
      child.stderr.destroy();
    }, timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    // A plugin that exits before reading stdin makes the write fail with EPIPE; the exit code says why.
    child.stdin.on("error", () => {});
    child.stdin.end(JSON.stringify(inv.config));
    child.on("error", (e) =>
      settle(() =>
        reject(
          new RuntimeError("NETWORK_FAILED", `${label} failed: ${e.message}`, context, {
            cause: e,
          }),
        ),
      ),
    );
    child.on("close", (code, signal) =>
      settle(() => {
        const stdout = Buffer.concat(out).toString("utf8").trim();
        const stderr = Buffer.concat(err).toString("utf8").trim();
        if (code !== 0) return reject(pluginFailure(label, stdout, stderr, code, signal, context));
        if (stdout === "") return resolve(undefined);
        try {
          resolve(JSON.parse(stdout));
        } catch {
          reject(
            new RuntimeError(
              "NETWORK_FAILED",
              `${label} printed output that is not JSON: ${stdout.slice(0, 200)}`,
              context,
            ),
          );
        }
      }),
    );
  });
}

/** Parses an ADD/CHECK result against the CNI 1.0.0 result schema. */
export function parseResult(inv: PluginInvocation, output: unknown): CniResult {
  const parsed = cniResultSchema.safeParse(output);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new RuntimeError(
      "NETWORK_FAILED",
      `CNI plugin ${inv.type} ${inv.command} for container ${shortId(inv.containerId)} returned an invalid result${where}: ${issue?.message}`,
      { plugin: inv.type, command: inv.command, output },
    );
  }
  return parsed.data;
}

function pluginFailure(
  label: string,
  stdout: string,
  stderr: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  context: Record<string, unknown>,
): RuntimeError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    parsed = undefined;
  }
  const cniError = cniErrorSchema.safeParse(parsed);
  if (cniError.success) {
    const { msg, details, code: cniCode } = cniError.data;
    const text = details ? `${msg}: ${details}` : msg;
    return new RuntimeError("NETWORK_FAILED", `${label} failed: ${text} (code ${cniCode})`, {
      ...context,
      cniCode,
      stderr,
    });
  }
  const how = signal ? `killed by ${signal}` : `exit code ${code}`;
  const text = stderr || stdout || "no error message";
  return new RuntimeError("NETWORK_FAILED", `${label} failed: ${text} (${how})`, {
    ...context,
    stderr,
  });
}

function findPlugin(pluginDir: string, type: string): string | undefined {
  if (!PLUGIN_TYPE.test(type)) return undefined;
  for (const dir of pluginDir.split(":").filter(Boolean)) {
    const candidate = path.join(dir, type);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}
