// Integration-test support: the real `./berth` script with every Berth directory under a
// berth-test-* base and its own cgroup parent, and a teardown that leaves nothing behind.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "vitest";
import { stopDaemon } from "../daemon/daemon-control.ts";
import { runningDaemonPid } from "../daemon/daemon-files.ts";

const exec = promisify(execFile);
const berthScript = fileURLToPath(new URL("../../../../berth", import.meta.url));

/** What a ./berth invocation printed and how it exited. */
export interface BerthRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestBerth {
  base: string;
  /** Where the daemon keeps durable state (`<base>/data/runtime`). */
  root: string;
  /** Runs `./berth ARGS…` and returns its exit code and output, whatever they are. */
  run(...args: string[]): Promise<BerthRun>;
  /** Runs `./berth ARGS…`, expects exit 0 and returns its stdout. */
  ok(...args: string[]): Promise<string>;
  /** Removes every container, stops the daemon, removes the cgroup parent and the base. */
  close(): Promise<void>;
}

/** A fresh base for `./berth` (no daemon yet: the first engine command starts one). */
export function testBerth(label: string): TestBerth {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `berth-test-${label}-`));
  fs.chmodSync(base, 0o755);
  const cgroupParent = `berth-test-${label}-${process.pid}`;
  const env = {
    ...process.env,
    BERTH_DATA_DIR: path.join(base, "data"),
    BERTH_RUN_DIR: path.join(base, "run"),
    BERTH_LOG_DIR: path.join(base, "log"),
    BERTH_CGROUP_PARENT: cgroupParent,
  };
  const runRoot = path.join(base, "run", "runtime");
  const run = async (...args: string[]): Promise<BerthRun> => {
    try {
      const { stdout, stderr } = await exec(berthScript, args, { env, maxBuffer: 16 << 20 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };
  return {
    base,
    root: path.join(base, "data", "runtime"),
    run,
    async ok(...args) {
      const r = await run(...args);
      expect(r.code, `berth ${args.join(" ")}: ${r.stderr}`).toBe(0);
      return r.stdout;
    },
    async close() {
      if (runningDaemonPid(path.join(runRoot, "engine.pid")) !== null) {
        const ids = (await run("container", "ps", "-a", "-q")).stdout.split("\n").filter(Boolean);
        if (ids.length > 0) await run("container", "rm", "-f", ...ids);
      }
      await stopDaemon({ runRoot });
      for (const ctrl of fs.readdirSync("/sys/fs/cgroup")) {
        const dir = `/sys/fs/cgroup/${ctrl}/${cgroupParent}`;
        if (!fs.existsSync(dir)) continue;
        for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
          if (child.isDirectory()) fs.rmdirSync(path.join(dir, child.name));
        }
        fs.rmdirSync(dir);
      }
      expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(base);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
