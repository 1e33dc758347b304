/** Helpers for tests that drive the real `./berth` script, as an operator would. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const berthScript = fileURLToPath(new URL("../../../../berth", import.meta.url));

/** What a ./berth invocation printed and how it exited. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temporary base directory the unprivileged postgres user can traverse (mkdtemp makes 0700). */
export async function tempBase(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `berth-test-cli-${label}-`));
  await chmod(dir, 0o755);
  return dir;
}

/** Runs the real ./berth script (as root) with Berth's directories moved under `base`. */
export async function berth(
  base: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<Run> {
  const env = {
    ...process.env,
    BERTH_DATA_DIR: join(base, "data"),
    BERTH_RUN_DIR: join(base, "run"),
    BERTH_LOG_DIR: join(base, "log"),
    // The engine daemon that `up` starts makes its cgroups under a test parent.
    BERTH_CGROUP_PARENT: `berth-test-cli-${process.pid}`,
    // Debian's debootstrap image is tested in the runtime's suite; here the quick one will do.
    BERTH_BASE_IMAGES: "busybox",
    ...extraEnv,
  };
  try {
    const { stdout, stderr } = await exec(berthScript, args, { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Alive means it exists and is not a zombie waiting for its parent (PID 1) to reap it. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^Z|^X/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}
