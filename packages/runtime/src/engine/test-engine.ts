// Integration-test support: an engine on a berth-test-* root with its own cgroup parent, a
// one-call run-to-exit, and the check that nothing of any container is left on the host.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import type { RuntimeConfigInput } from "../config.ts";
import type { ContainerState } from "../container/container-state.ts";
import { busyboxRootfs } from "../container/test-busybox-rootfs.ts";
import { createEngine, type Engine, type ExitResult } from "./engine.ts";
import type { RunInput } from "./run-input.ts";

export interface TestEngine {
  engine: Engine;
  /** The mkdtemp'd directory holding root and runRoot. */
  dir: string;
  config: RuntimeConfigInput & { root: string; runRoot: string; cgroupParent: string };
  rootfs: string;
}

const V1_CONTROLLERS = ["memory", "cpu,cpuacct", "pids", "devices", "freezer"];

export async function startTestEngine(extra: RuntimeConfigInput = {}): Promise<TestEngine> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-"));
  const config = {
    root: `${dir}/lib`,
    runRoot: `${dir}/run`,
    cgroupParent: `berth-test-${process.pid}`,
    ...extra,
  };
  const engine = await createEngine(config, { poolSize: 2 });
  await engine.warm();
  return { engine, dir, config, rootfs: busyboxRootfs() };
}

export interface RunResult extends ExitResult {
  /** stdout and stderr as logged. */
  out: string;
  state: ContainerState;
}

/** Runs a container to its exit, returns its output and removes it. */
export async function runToExit(
  t: TestEngine,
  input: Omit<RunInput, "rootfs">,
): Promise<RunResult> {
  const s = await t.engine.run({ rootfs: t.rootfs, ...input } as RunInput);
  const exit = await t.engine.wait(s.id);
  const out = t.engine
    .logs(s.id)
    .map((l) => l.log)
    .join("");
  const state = t.engine.inspect(s.id);
  await t.engine.remove(s.id);
  return { ...exit, out, state };
}

/** Container state dirs, cgroups, netns files, mounts, processes: none may exist. */
export function expectNothingLeft(t: TestEngine): void {
  expect(t.engine.list({ all: true })).toEqual([]);
  const containers = `${t.config.root}/containers`;
  expect(fs.existsSync(containers) ? fs.readdirSync(containers) : []).toEqual([]);
  const runContainers = `${t.config.runRoot}/containers`;
  expect(fs.existsSync(runContainers) ? fs.readdirSync(runContainers) : []).toEqual([]);
  const netns = `${t.config.runRoot}/netns`;
  expect(fs.existsSync(netns) ? fs.readdirSync(netns) : []).toEqual([]);
  expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(t.dir);
  for (const ctrl of V1_CONTROLLERS) {
    const parent = `/sys/fs/cgroup/${ctrl}/${t.config.cgroupParent}`;
    if (!fs.existsSync(parent)) continue;
    const groups = fs
      .readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith("zygote-"))
      .map((d) => d.name);
    expect(groups).toEqual([]);
  }
}

/** Closes the engine, checks nothing is left (zygote groups included) and removes the test root. */
export async function stopTestEngine(t: TestEngine | undefined): Promise<void> {
  if (!t) return;
  for (const s of t.engine.list({ all: true })) await t.engine.remove(s.id, { force: true });
  await t.engine.close();
  expectNothingLeft(t);
  for (const ctrl of V1_CONTROLLERS) {
    const parent = `/sys/fs/cgroup/${ctrl}/${t.config.cgroupParent}`;
    if (fs.existsSync(parent)) {
      expect(
        fs.readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()),
      ).toEqual([]);
      fs.rmdirSync(parent);
    }
  }
  const ps = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
  expect(ps).not.toContain(t.dir);
  fs.rmSync(t.dir, { recursive: true, force: true });
}
