import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitSshServer } from "./git-ssh-server.ts";
import { GitdError } from "./gitd-error.ts";
import type { Push } from "./push-types.ts";

const run = promisify(execFile);

/** Runs a command, never throwing: the exit code and both outputs. */
function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let tmp: string;
let server: GitSshServer;
let port: number;
let sshEnv: NodeJS.ProcessEnv;
let strangerEnv: NodeJS.ProcessEnv;
const pushes: Push[] = [];
let verdict: (push: Push) => Promise<boolean> = async () => true;
const commands: string[][] = [];

async function newKey(name: string): Promise<{ file: string; blob: Buffer }> {
  const file = path.join(tmp, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  const pub = fs.readFileSync(`${file}.pub`, "utf8").split(" ");
  return { file, blob: Buffer.from(pub[1] as string, "base64") };
}

function envFor(keyFile: string): NodeJS.ProcessEnv {
  const ssh = `ssh -i ${keyFile} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p ${port}`;
  return { ...process.env, GIT_SSH_COMMAND: ssh, GIT_TERMINAL_PROMPT: "0" };
}

async function newWorkTree(name: string, content: string): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const git = (...args: string[]) => run("git", args, { cwd: dir });
  await git("init", "-q", "-b", "main");
  await git("config", "user.email", "dev@example.test");
  await git("config", "user.name", "Dev");
  fs.writeFileSync(path.join(dir, "index.txt"), content);
  await git("add", ".");
  await git("commit", "-q", "-m", "first");
  return dir;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-gitd-"));
  const dev = await newKey("dev");
  const stranger = await newKey("stranger");
  server = new GitSshServer({
    port: 0,
    hostKeyDir: path.join(tmp, "host"),
    gitRoot: path.join(tmp, "git"),
    hookSocket: path.join(tmp, "hook.sock"),
    keys: {
      identify: async (key) =>
        key.data.equals(dev.blob) ? { userId: "u1", name: "dev@example.test" } : null,
    },
    access: {
      authorize: async (_who, app) => {
        if (app === "private") throw new GitdError("NOT_FOUND", `no app named ${app}`);
      },
    },
    onPush: async (push) => {
      pushes.push(push);
      return verdict(push);
    },
    commands: async (io) => {
      commands.push(io.argv);
      io.stdout.write(`hello ${io.principal.name}: ${io.argv.join("|")}\n`);
      return io.argv[0] === "fail" ? 3 : 0;
    },
  });
  ({ port } = await server.listen());
  sshEnv = envFor(dev.file);
  strangerEnv = envFor(stranger.file);
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("gitd: git over SSH with the real git and ssh clients", () => {
  it("accepts a push, hands the hook the pushed commit (readable in quarantine) and shows its output", async () => {
    const work = await newWorkTree("app1", "v1\n");
    const head = (await run("git", ["rev-parse", "HEAD"], { cwd: work })).stdout.trim();
    verdict = async (push) => {
      const shown = await run("git", ["show", `${push.updates[0]?.newSha}:index.txt`], {
        env: { ...process.env, ...push.gitEnv },
      });
      push.write(`-----> building ${push.app} (${shown.stdout.trim()})\n`);
      return true;
    };
    const r = await sh("git", ["push", `ssh://git@127.0.0.1:${port}/myapp.git`, "main"], {
      cwd: work,
      env: sshEnv,
    });
    expect(r.stderr).toContain("remote: -----> building myapp (v1)");
    expect(r.code).toBe(0);
    const last = pushes.at(-1) as Push;
    expect(last.principal.userId).toBe("u1");
    expect(last.updates).toEqual([
      { oldSha: "0".repeat(40), newSha: head, ref: "refs/heads/main" },
    ]);
    const stored = await run("git", [
      "--git-dir",
      server.repositories.pathOf("myapp"),
      "rev-parse",
      "main",
    ]);
    expect(stored.stdout.trim()).toBe(head);

    const clone = await sh("git", ["clone", `ssh://git@127.0.0.1:${port}/myapp.git`, "clone1"], {
      cwd: tmp,
      env: sshEnv,
    });
    expect(clone.code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, "clone1", "index.txt"), "utf8")).toBe("v1\n");
  });

  it("a rejected push leaves the repository as it was and tells the pusher why", async () => {
    const work = await newWorkTree("app2", "v2\n");
    verdict = async (push) => {
      push.write("build failed: npm ERR! missing script: start\n");
      return false;
    };
    const r = await sh("git", ["push", `ssh://git@127.0.0.1:${port}/myapp.git`, "+main"], {
      cwd: work,
      env: sshEnv,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("remote: build failed: npm ERR! missing script: start");
    expect(r.stderr).toContain("[remote rejected] main -> main (pre-receive hook declined)");
    const clone = await sh("git", ["clone", `ssh://git@127.0.0.1:${port}/myapp.git`, "clone2"], {
      cwd: tmp,
      env: sshEnv,
    });
    expect(clone.code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, "clone2", "index.txt"), "utf8")).toBe("v1\n");
  });

  it("serialises two pushes to one app: the second is told it waits", async () => {
    const a = await newWorkTree("app3", "a\n");
    const b = await newWorkTree("app4", "b\n");
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let calls = 0;
    verdict = async () => {
      calls++;
      if (calls === 1) await firstHeld;
      return true;
    };
    const first = sh("git", ["push", "-f", `ssh://git@127.0.0.1:${port}/queued.git`, "main"], {
      cwd: a,
      env: sshEnv,
    });
    while (calls === 0) await new Promise((r) => setTimeout(r, 20));
    const second = sh("git", ["push", "-f", `ssh://git@127.0.0.1:${port}/queued.git`, "main"], {
      cwd: b,
      env: sshEnv,
    });
    // The second waits on the first: it cannot have been decided yet.
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls).toBe(1);
    releaseFirst();
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1.code).toBe(0);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain("waiting for another push to queued to finish");
    expect(calls).toBe(2);
  });

  it("refuses a key nobody added", async () => {
    const work = await newWorkTree("app5", "x\n");
    const r = await sh("git", ["push", `ssh://git@127.0.0.1:${port}/myapp.git`, "main"], {
      cwd: work,
      env: strangerEnv,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Permission denied (publickey)");
  });

  it("refuses repository paths that are not one app name, and apps the user cannot see", async () => {
    const work = await newWorkTree("app6", "x\n");
    for (const [url, message] of [
      [`ssh://git@127.0.0.1:${port}/../etc.git`, "is not an app repository"],
      [`ssh://git@127.0.0.1:${port}/a/b.git`, "is not an app repository"],
      [`ssh://git@127.0.0.1:${port}/Bad_Name.git`, "is not an app repository"],
      [`ssh://git@127.0.0.1:${port}/private.git`, "no app named private"],
    ] as const) {
      const r = await sh("git", ["push", url, "main"], { cwd: work, env: sshEnv });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
    expect(fs.readdirSync(path.join(tmp, "git")).sort()).toEqual(["myapp.git", "queued.git"]);
  });

  it("passes other commands to the command table as argv, without a shell", async () => {
    const ssh = (sshEnv.GIT_SSH_COMMAND as string).split(" ");
    const ok = await sh(ssh[0] as string, [
      ...ssh.slice(1),
      "git@127.0.0.1",
      "config:set myapp 'A=b c' $HOME;id",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("hello dev@example.test: config:set|myapp|A=b c|$HOME;id\n");
    const failed = await sh(ssh[0] as string, [...ssh.slice(1), "git@127.0.0.1", "fail"]);
    expect(failed.code).toBe(3);
  });

  it("a push straight into the repository on disk is refused by the hook", async () => {
    const work = await newWorkTree("app7", "x\n");
    const r = await sh("git", ["push", server.repositories.pathOf("myapp"), "+main"], {
      cwd: work,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("takes pushes only through Berth's git server");
  });
});
