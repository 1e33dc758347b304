import fs from "node:fs";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerState } from "../container/container-state.ts";
import { capabilityMask, DOCKER_DEFAULT_CAPABILITIES } from "../security/capabilities.ts";
import type { ExecOptions, ExecSession } from "./exec-container.ts";
import { startTestEngine, stopTestEngine, type TestEngine } from "./test-engine.ts";

const isRoot = process.getuid?.() === 0;
const DOCKER_CAPS_HEX = capabilityMask(DOCKER_DEFAULT_CAPABILITIES).toString(16).padStart(16, "0");

let t: TestEngine;
/** Host pids of every exec'd process: none may be alive at the end. */
const execPids: number[] = [];

function collect(stream: Readable | null): { text: () => string; ended: Promise<void> } {
  let text = "";
  stream?.on("data", (d: Buffer | string) => {
    text += d.toString();
  });
  const ended = new Promise<void>((resolve) => {
    if (!stream) return resolve();
    stream.on("end", resolve);
    stream.on("close", resolve);
  });
  return { text: () => text, ended };
}

/** Runs an exec to its exit with its output. */
async function execToExit(id: string, options: ExecOptions) {
  const s = await t.engine.exec(id, options);
  execPids.push(s.pid);
  const out = collect(s.stdout);
  const err = collect(s.stderr);
  const exit = await s.wait();
  // The pipes' last bytes may arrive after the exit event.
  await Promise.all([out.ended, err.ended]);
  return { ...exit, out: out.text(), err: err.text(), session: s };
}

/** Waits until `read()` matches. */
async function until(read: () => string, re: RegExp, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (re.test(read())) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${re} in ${JSON.stringify(read())}`);
}

function alive(pid: number): boolean {
  try {
    const state = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)("exec, pty and stats (real kernel)", () => {
  let box: ContainerState;

  beforeAll(async () => {
    t = await startTestEngine();
    box = await t.engine.run({
      rootfs: t.rootfs,
      command: ["sleep", "1000"],
      name: "berth-test-exec-box",
      hostname: "exec-box",
      network: "none",
    });
  });

  afterAll(async () => {
    await stopTestEngine(t);
    for (const pid of execPids) expect(alive(pid)).toBe(false);
  });

  it("exec hostname prints the container's hostname", async () => {
    const r = await execToExit(box.id, { args: ["hostname"] });
    expect(r).toMatchObject({ exitCode: 0, out: "exec-box\n", err: "" });
  });

  it("runs with the container's capabilities, seccomp filter and no_new_privs", async () => {
    const r = await execToExit(box.name, { args: ["cat", "/proc/self/status"] });
    expect(r.exitCode).toBe(0);
    expect(r.out).toMatch(new RegExp(`^CapEff:\\s+${DOCKER_CAPS_HEX}$`, "m"));
    expect(r.out).toMatch(new RegExp(`^CapBnd:\\s+${DOCKER_CAPS_HEX}$`, "m"));
    expect(r.out).toMatch(/^Seccomp:\s+2$/m);
    expect(r.out).toMatch(/^NoNewPrivs:\s+1$/m);
    // Same as the container's init; Node's ignored SIGPIPE is not passed on.
    const init = fs.readFileSync(`/proc/${box.pid}/status`, "utf8");
    expect(/^CapEff:.*$/m.exec(r.out)?.[0]).toBe(/^CapEff:.*$/m.exec(init)?.[0]);
    expect(r.out).toMatch(/^SigIgn:\s+0+$/m);
  });

  it("joins the container's namespaces, root and cgroup; its pid shows in the container's ps", async () => {
    const sleeper = await t.engine.exec(box.id, { args: ["sleep", "300"] });
    execPids.push(sleeper.pid);
    try {
      for (const ns of ["mnt", "uts", "ipc", "net", "pid", "cgroup"]) {
        expect(fs.readlinkSync(`/proc/${sleeper.pid}/ns/${ns}`)).toBe(
          fs.readlinkSync(`/proc/${box.pid}/ns/${ns}`),
        );
      }
      expect(fs.readlinkSync(`/proc/${sleeper.pid}/root`)).toBe("/");
      expect(fs.readFileSync(`/proc/${sleeper.pid}/cgroup`, "utf8")).toBe(
        fs.readFileSync(`/proc/${box.pid}/cgroup`, "utf8"),
      );
      expect(sleeper.containerPid).toBeGreaterThan(1);
      const ps = await execToExit(box.id, { args: ["ps", "-o", "pid,args"] });
      expect(ps).toMatchObject({ exitCode: 0, err: "" });
      expect(ps.out).toMatch(new RegExp(`^\\s*${sleeper.containerPid}\\s+sleep 300$`, "m"));
      // Only the container's processes: init, the app, the sleeper and ps itself.
      expect(ps.out.trim().split("\n")).toHaveLength(5);
    } finally {
      sleeper.kill("SIGKILL");
      expect(await sleeper.wait()).toEqual({ exitCode: 137, signal: "SIGKILL" });
    }
  });

  it("takes env, working directory and user", async () => {
    const r = await execToExit(box.id, {
      args: [
        "sh",
        "-c",
        'echo "$FOO $HOSTNAME $(pwd) $(id -u):$(id -g)"; grep CapEff /proc/self/status',
      ],
      env: ["FOO=bar"],
      cwd: "/tmp",
      user: "65534:65534",
    });
    expect(r.exitCode).toBe(0);
    expect(r.out).toMatch(/^bar exec-box \/tmp 65534:65534\nCapEff:\s+0+\n$/);
  });

  it("pipes stdin when asked", async () => {
    const s = await t.engine.exec(box.id, {
      args: ["sh", "-c", "read x; echo got:$x"],
      stdin: true,
    });
    execPids.push(s.pid);
    const out = collect(s.stdout);
    s.stdin!.end("hello\n");
    expect(await s.wait()).toEqual({ exitCode: 0, signal: null });
    await until(out.text, /got:hello\n/);
  });

  it("a missing command exits 127 and says so", async () => {
    const r = await execToExit(box.id, { args: ["no-such-command"] });
    expect(r.exitCode).toBe(127);
    expect(r.err).toBe("berth: command not found: no-such-command\n");
    expect(r.session.error).toBe("berth: command not found: no-such-command");
  });

  it("a missing working directory is one clear error", async () => {
    await expect(t.engine.exec(box.id, { args: ["true"], cwd: "/no/such/dir" })).rejects.toThrow(
      "exec in container berth-test-exec-box: working directory /no/such/dir does not exist",
    );
  });

  it("exec -it: a pty in the container's devpts, echo, resize, exit code", async () => {
    const s = await t.engine.exec(box.id, {
      args: ["sh"],
      tty: true,
      stdin: true,
      size: { cols: 100, rows: 30 },
    });
    execPids.push(s.pid);
    expect(s.stderr).toBeNull();
    const out = collect(s.pty);
    s.stdin!.write("echo hi\n");
    await until(out.text, /\r\nhi\r\n/);
    s.stdin!.write("tty; stty size\n");
    await until(out.text, /\/dev\/pts\/0\r\n30 100\r\n/);
    s.resize(120, 40);
    s.stdin!.write("stty size\n");
    await until(out.text, /40 120\r\n/);
    s.stdin!.write("exit 3\n");
    expect(await s.wait()).toEqual({ exitCode: 3, signal: null });
    await until(out.text, /exit 3/);
  });

  it("exec into a stopped container fails clearly", async () => {
    const stopped = await t.engine.create({
      rootfs: t.rootfs,
      command: ["true"],
      name: "berth-test-exec-stopped",
      network: "none",
    });
    await expect(t.engine.exec(stopped.id, { args: ["true"] })).rejects.toMatchObject({
      code: "INVALID_STATE",
      message: "container berth-test-exec-stopped is not running",
    });
    await t.engine.start(stopped.id);
    await t.engine.wait(stopped.id);
    await expect(t.engine.exec(stopped.id, { args: ["true"] })).rejects.toMatchObject({
      code: "INVALID_STATE",
      message: "container berth-test-exec-stopped is not running",
    });
    await expect(t.engine.stats(stopped.id)).rejects.toMatchObject({ code: "INVALID_STATE" });
    await t.engine.remove(stopped.id);
  });

  it("run -it sh: the app reads the terminal, which the engine holds", async () => {
    const c = await t.engine.run({
      rootfs: t.rootfs,
      command: ["sh"],
      network: "none",
      interactive: true,
      tty: true,
    });
    const a = t.engine.attach(c.id);
    const out = collect(a.output);
    a.stdin!.write("echo hi; stty size\n");
    await until(out.text, /\r\nhi\r\n24 80\r\n/);
    a.resize(90, 33);
    a.stdin!.write("stty size; exit 4\n");
    expect((await t.engine.wait(c.id)).exitCode).toBe(4);
    await until(out.text, /33 90\r\n/);
    expect(t.engine.logs(c.id).map((l) => l.log)).toContain("hi\n");
    expect(() => t.engine.attach(c.id)).toThrow(/not running with -i or -t/);
    await t.engine.remove(c.id);
  });

  it("run -it: the app's terminal is a pty of the container's own devpts", async () => {
    const c = await t.engine.run({
      rootfs: t.rootfs,
      command: ["sh", "-c", "tty; stty size; read x; echo got:$x; cat"],
      network: "none",
      interactive: true,
      tty: true,
    });
    const a = t.engine.attach(c.id);
    const out = collect(a.output);
    await until(out.text, /^\/dev\/pts\/0\r\n24 80\r\n/);
    // The container's devpts holds that one pty; the host's /dev/pts has none of it.
    const pid = t.engine.inspect(c.id).pid!;
    expect(fs.readlinkSync(`/proc/${pid}/fd/0`)).toBe("/dev/pts/0");
    a.stdin!.write("line\n");
    await until(out.text, /got:line\r\n/);
    // EOF (Ctrl-D at the start of a line) ends cat; the shell exits 0.
    a.stdin!.write("\x04");
    expect((await t.engine.wait(c.id)).exitCode).toBe(0);
    await until(out.text, /got:line/);
    // The init wrote the exit status to its file (fd 3), silently.
    expect(out.text()).not.toMatch(/Bad file descriptor/);
    expect(fs.readFileSync(`${t.config.root}/containers/${c.id}/exit-status`, "utf8")).toBe("0\n");
    await t.engine.remove(c.id);
  });

  it("run -t: the caller's terminal size is the app's from its start", async () => {
    // No attach, no resize: the size must be on the pty before the app is exec'd.
    const c = await t.engine.run({
      rootfs: t.rootfs,
      command: ["stty", "size"],
      network: "none",
      tty: true,
      consoleSize: { cols: 100, rows: 30 },
    });
    expect((await t.engine.wait(c.id)).exitCode).toBe(0);
    expect(t.engine.logs(c.id).map((l) => l.log)).toEqual(["30 100\n"]);
    await t.engine.remove(c.id);
  });

  it("run -it: Ctrl-C interrupts the app in the container's terminal", async () => {
    const c = await t.engine.run({
      rootfs: t.rootfs,
      command: ["sh", "-c", "echo ready; sleep 100"],
      network: "none",
      interactive: true,
      tty: true,
    });
    const a = t.engine.attach(c.id);
    const out = collect(a.output);
    await until(out.text, /ready\r\n/);
    a.stdin!.write("\x03");
    const exit = await t.engine.wait(c.id);
    expect(exit.exitCode).toBe(130);
    await t.engine.remove(c.id);
  });

  it("run with a bad -w: one error naming the step, the call, the path and the errno", async () => {
    await expect(
      t.engine.run({
        rootfs: t.rootfs,
        command: ["true"],
        network: "none",
        name: "berth-test-bad-workdir",
        workdir: "/etc/passwd/sub",
      }),
    ).rejects.toThrow(
      /^creating the working directory \/etc\/passwd\/sub \(setup step \d+\): mkdir \S+\/merged\/etc\/passwd\/sub failed: ENOTDIR$/,
    );
    expect(t.engine.list({ all: true }).map((c) => c.name)).not.toContain("berth-test-bad-workdir");
  });

  it("run -i: the app reads stdin until the caller ends it", async () => {
    const c = await t.engine.run({
      rootfs: t.rootfs,
      command: ["sh", "-c", "read x; echo got:$x; cat; echo done"],
      network: "none",
      interactive: true,
    });
    const a = t.engine.attach(c.id);
    expect(a.output).toBeNull();
    a.stdin!.write("one\ntwo\n");
    a.stdin!.end();
    expect((await t.engine.wait(c.id)).exitCode).toBe(0);
    expect(t.engine.logs(c.id).map((l) => l.log)).toEqual(["got:one\n", "two\n", "done\n"]);
    await t.engine.remove(c.id);
  });

  it("stats of a busy container: cpu, memory and pids", async () => {
    const c = await t.engine.run({
      rootfs: t.rootfs,
      command: ["sh", "-c", "while :; do :; done"],
      network: "none",
      pidsLimit: 50,
    });
    await new Promise((r) => setTimeout(r, 300));
    const s = await t.engine.stats(c.id);
    expect(s.id).toBe(c.id);
    expect(s.cpuPercent).toBeGreaterThan(5);
    expect(s.cpuNs).toBeGreaterThan(0);
    expect(s.memoryBytes).toBeGreaterThan(0);
    expect(s.memoryLimitBytes).toBeGreaterThan(s.memoryBytes);
    expect(s.pids).toBeGreaterThanOrEqual(1);
    expect(s.pidsLimit).toBe(50);
    expect(s.netRxBytes).toBe(0);
    await t.engine.remove(c.id, { force: true });
  });

  it("exec'd processes die with their container", async () => {
    const c = await t.engine.run({
      rootfs: t.rootfs,
      command: ["sleep", "1000"],
      network: "none",
    });
    const s: ExecSession = await t.engine.exec(c.id, { args: ["sleep", "1000"] });
    execPids.push(s.pid);
    await t.engine.remove(c.id, { force: true });
    expect((await s.wait()).signal).toBe("SIGKILL");
  });
});
