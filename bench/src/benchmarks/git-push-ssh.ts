import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GitSshServer } from "@berth/gitd/server";
import { freePort } from "@berth/runtime/free-port";
import { type Benchmark, median, timeMs } from "../harness.ts";

const run = promisify(execFile);
const ROUNDS = 5;
const FILES = 50;
const FILE_BYTES = 20 * 1024;

/**
 * `git push` of a fresh 1 MB, 50-file repository over Berth's git server (ssh2 + the real git,
 * through its pre-receive hook, which accepts at once) beside the same push to OpenSSH's sshd on
 * loopback (no hook). Both use the same client, key and kex; each round pushes to a new repository.
 */
export const benchmark: Benchmark = {
  name: "git-push-ssh",
  async skipReason() {
    if (process.getuid?.() !== 0) return "needs root (sshd)";
    if (!existsSync("/usr/sbin/sshd")) return "Debian's openssh-server is not installed";
    return undefined;
  },
  async run(log) {
    const base = await mkdtemp(join(tmpdir(), "berth-test-bench-git-"));
    const stopSshd: { pid?: number } = {};
    let gitd: GitSshServer | undefined;
    try {
      const key = join(base, "id_ed25519");
      await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
      const blob = Buffer.from(
        (await readFile(`${key}.pub`, "utf8")).split(" ")[1] as string,
        "base64",
      );
      const work = await makeWorkTree(join(base, "work"));

      gitd = new GitSshServer({
        port: 0,
        hostKeyDir: join(base, "gitd-host"),
        gitRoot: join(base, "gitd-repos"),
        hookSocket: join(base, "hook.sock"),
        keys: {
          identify: async (k) => (k.data.equals(blob) ? { userId: "bench", name: "bench" } : null),
        },
        access: { authorize: async () => undefined },
        onPush: async () => true,
      });
      const { port: gitdPort } = await gitd.listen();
      const sshdPort = await startSshd(base, `${key}.pub`, stopSshd);

      const ssh = (port: number) =>
        `ssh -i ${key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o KexAlgorithms=curve25519-sha256 -p ${port}`;
      const push = (port: number, url: string) =>
        run("git", ["push", "-q", url, "main"], {
          cwd: work,
          env: { ...process.env, GIT_SSH_COMMAND: ssh(port) },
        });
      const ours: number[] = [];
      const peer: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ours.push(
          await timeMs(() => push(gitdPort, `ssh://git@127.0.0.1:${gitdPort}/bench-${round}.git`)),
        );
        const bare = join(base, "sshd-repos", `bench-${round}.git`);
        await run("git", ["init", "-q", "--bare", bare]);
        peer.push(await timeMs(() => push(sshdPort, `ssh://root@127.0.0.1:${sshdPort}${bare}`)));
        log(
          `round ${round + 1}: gitd ${ours.at(-1)?.toFixed(0)} ms, sshd ${peer.at(-1)?.toFixed(0)} ms`,
        );
      }
      return [
        {
          metric: "git push, 1 MB / 50 files, new repository",
          unit: "ms",
          ours: median(ours),
          peer: median(peer),
          peerName: "OpenSSH sshd + git",
          note: "ours runs the pre-receive hook round trip",
        },
      ];
    } finally {
      await gitd?.close();
      if (stopSshd.pid) process.kill(stopSshd.pid, "SIGTERM");
      await rm(base, { recursive: true, force: true });
    }
  },
};

async function makeWorkTree(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const git = (...args: string[]) => run("git", args, { cwd: dir });
  await git("init", "-q", "-b", "main");
  for (let i = 0; i < FILES; i++) {
    // Random bytes, so compression cannot shrink the push below its nominal size.
    await writeFile(join(dir, `file-${i}.bin`), randomBytes(FILE_BYTES));
  }
  await git("add", ".");
  await git("-c", "user.email=b@example.test", "-c", "user.name=b", "commit", "-q", "-m", "bench");
  return dir;
}

/** OpenSSH's sshd on a free loopback port, for root with only our key; resolves once it listens. */
async function startSshd(base: string, pubKey: string, handle: { pid?: number }): Promise<number> {
  const port = await freePort();
  const hostKey = join(base, "sshd-host");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const config = join(base, "sshd_config");
  await writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${pubKey}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      `PidFile ${join(base, "sshd.pid")}`,
      "",
    ].join("\n"),
  );
  const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  handle.pid = child.pid;
  let errors = "";
  child.stderr.on("data", (d) => (errors += d));
  for (let i = 0; i < 100; i++) {
    if (errors.includes("Server listening")) return port;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not start on 127.0.0.1:${port}: ${errors.trim()}`);
}
