import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveRuntimeConfig } from "../config.ts";
import { busyboxRootfs } from "../container/test-busybox-rootfs.ts";
import { stopDaemon } from "../daemon/daemon-control.ts";
import { isDaemonProcess, runningDaemonPid } from "../daemon/daemon-files.ts";
import { ContainerNetwork } from "../network/container-network.ts";
import { freePort } from "../network/free-port.ts";
import {
  bridgePorts,
  type HostNetworkSnapshot,
  iptablesSave,
  linkNames,
  restoreHostNetwork,
  snapshotHostNetwork,
} from "../network/test-host-network.ts";

const exec = promisify(execFile);
const berthScript = fileURLToPath(new URL("../../../../berth", import.meta.url));
const isRoot = process.getuid?.() === 0;
const CGROUP_PARENT = `berth-test-cli-${process.pid}`;
// The daemon's bridge and subnet, test-only (the network and engine suites use 10.213.61/62).
const BRIDGE = "berth-tcli1";
const SUBNET_PREFIX = "10.213.63.";
const canBridge = isRoot && fs.existsSync("/usr/lib/cni/bridge");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let base: string;
let rootfs: string;
let env: NodeJS.ProcessEnv;
let hostBefore: HostNetworkSnapshot | undefined;

/** The real `./berth container …`, with every Berth directory under the test's base. */
async function berth(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(berthScript, ["container", ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** `./berth container …` with `input` on its stdin. */
function berthWithInput(input: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(berthScript, ["container", ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** `run -d` with no network (the tests make no bridge), returning the full id. */
async function runDetached(...args: string[]): Promise<string> {
  const r = await berth("run", "-d", "--network", "none", "--rootfs", rootfs, ...args);
  expect(r.stderr).not.toMatch(/berth: (?!the engine daemon is not running)/);
  expect(r.code).toBe(0);
  const id = r.stdout.trim();
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  return id;
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/index.html", timeout: 1000 }, (res) => {
      let body = "";
      res.on("data", (b) => {
        body += b;
      });
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", (e: NodeJS.ErrnoException) => resolve(`ERR:${e.code}`));
  });
}

const runRoot = () => path.join(base, "run", "runtime");
const containersDir = () => path.join(base, "data", "runtime", "containers");
const containerDirs = () => (fs.existsSync(containersDir()) ? fs.readdirSync(containersDir()) : []);

function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!isRoot)("./berth container (real daemon, real kernel)", () => {
  beforeAll(() => {
    rootfs = busyboxRootfs();
    hostBefore = snapshotHostNetwork();
    base = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-cli-"));
    fs.chmodSync(base, 0o755);
    env = {
      ...process.env,
      BERTH_DATA_DIR: path.join(base, "data"),
      BERTH_RUN_DIR: path.join(base, "run"),
      BERTH_LOG_DIR: path.join(base, "log"),
      BERTH_CGROUP_PARENT: CGROUP_PARENT,
      BERTH_BRIDGE: BRIDGE,
      BERTH_SUBNET: `${SUBNET_PREFIX}0/24`,
    };
  });

  afterAll(async () => {
    if (runningDaemonPid(path.join(runRoot(), "engine.pid")) !== null) {
      const ids = (await berth("ps", "-a", "-q")).stdout.split("\n").filter((l) => l !== "");
      if (ids.length > 0) await berth("rm", "-f", ...ids);
    }
    await stopDaemon({ runRoot: runRoot() });
    // A daemon removes its own zygote groups on close and a dead one's at start; should any
    // be left (a failed test), remove the test parent's children first.
    for (const ctrl of fs.readdirSync("/sys/fs/cgroup")) {
      const dir = `/sys/fs/cgroup/${ctrl}/${CGROUP_PARENT}`;
      if (!fs.existsSync(dir)) continue;
      for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
        if (child.isDirectory()) fs.rmdirSync(path.join(dir, child.name));
      }
      fs.rmdirSync(dir);
    }
    await new ContainerNetwork(
      resolveRuntimeConfig({
        root: path.join(base, "data", "runtime"),
        runRoot: path.join(base, "run", "runtime"),
        bridgeName: BRIDGE,
        subnet: `${SUBNET_PREFIX}0/24`,
      }),
    ).removeBridge();
    fs.rmSync(base, { recursive: true, force: true });
    if (hostBefore) restoreHostNetwork(hostBefore);
    expect(linkNames()).not.toContain(BRIDGE);
    expect(iptablesSave()).not.toContain(BRIDGE);
  });

  it("run (foreground) starts the daemon, streams stdout and stderr, and returns the exit code", async () => {
    const r = await berth(
      "run",
      "--rm",
      "--network",
      "none",
      "--rootfs",
      rootfs,
      "sh",
      "-c",
      "echo hello; echo oops >&2; exit 4",
    );
    expect(r.stderr).toContain("berth: the engine daemon is not running; starting it");
    expect(r.stdout).toBe("hello\n");
    expect(r.stderr).toContain("oops\n");
    expect(r.code).toBe(4);
    expect(containerDirs()).toEqual([]); // --rm left nothing
    const st = fs.statSync(path.join(runRoot(), "engine.sock"));
    expect(st.mode & 0o777).toBe(0o600);
  });

  it("run of a command missing in the container exits 127 and says so", async () => {
    const r = await berth("run", "--rm", "--network", "none", "--rootfs", rootfs, "no-such-cmd");
    expect(r.code).toBe(127);
    expect(r.stderr).toContain("command not found: no-such-cmd");
  });

  it("run -d prints the full id; the container outlives the CLI; ps and inspect show it", async () => {
    const id = await runDetached("--name", "berth-test-sleeper", "sleep", "3600");
    const ps = await berth("ps");
    expect(ps.code).toBe(0);
    const [header, ...rows] = ps.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^CONTAINER ID\s+IMAGE\s+NAME\s+COMMAND\s+CREATED\s+STATUS\s+PORTS$/);
    const row = rows.find((l) => l.startsWith(id.slice(0, 12)));
    expect(row).toMatch(/berth-test-sleeper\s+"sleep 3600"\s+.+ ago\s+Up /);
    const inspect = await berth("inspect", "berth-test-sleeper");
    const [state] = JSON.parse(inspect.stdout);
    expect(state.id).toBe(id);
    expect(state.status).toBe("running");
    expect(pidAlive(state.pid)).toBe(true);
    // A unique prefix works as well as the name.
    expect(JSON.parse((await berth("inspect", id.slice(0, 8))).stdout)[0].id).toBe(id);
  });

  it("logs, --tail, -t and --since; wait prints the exit code", async () => {
    const id = await runDetached("sh", "-c", "echo one; echo two >&2; echo three; exit 7");
    const wait = await berth("wait", id.slice(0, 12));
    expect(wait.stdout.trim()).toBe("7");
    const logs = await berth("logs", id);
    expect(logs.stdout).toBe("one\nthree\n");
    expect(logs.stderr).toBe("two\n");
    // stdout and stderr are read separately: their relative order is not kept, each one's is.
    const tail = await berth("logs", "--tail", "1", id);
    expect(`${tail.stdout}${tail.stderr}`).toMatch(/^(three|two)\n$/);
    const stamped = await berth("logs", "-t", id);
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z one\n/);
    expect((await berth("logs", "--since", "2099-01-01T00:00:00Z", id)).stdout).toBe("");
    const ps = await berth("ps", "-a");
    expect(ps.stdout).toMatch(new RegExp(`${id.slice(0, 12)}.*Exited \\(7\\) .* ago`));
    expect((await berth("rm", id)).code).toBe(0);
    expect(containerDirs()).not.toContain(id);
  });

  it("logs -f follows until the container exits", async () => {
    const id = await runDetached("sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 0.3; done");
    const r = await berth("logs", "-f", id);
    expect(r.stdout).toBe("tick 1\ntick 2\ntick 3\n");
    await berth("rm", id);
  });

  it("stop sends SIGTERM and reports the exit; kill -s; rm -f of a running container", async () => {
    const a = await runDetached("sleep", "3600");
    const stop = await berth("stop", "-t", "5", a);
    expect(stop.code).toBe(0);
    const [sa] = JSON.parse((await berth("inspect", a)).stdout);
    expect(sa.status).toBe("exited");
    expect(sa.exitCode).toBe(143);
    const b = await runDetached("sleep", "3600");
    expect((await berth("kill", "-s", "KILL", b)).code).toBe(0);
    expect((await berth("wait", b)).stdout.trim()).toBe("137");
    const c = await runDetached("sleep", "3600");
    const [sc] = JSON.parse((await berth("inspect", c)).stdout);
    const rm = await berth("rm", c);
    expect(rm.code).toBe(125);
    expect(rm.stderr).toMatch(/is running/);
    expect((await berth("rm", "-f", c, a, b)).code).toBe(0);
    expect(pidAlive(sc.pid)).toBe(false);
    expect(containerDirs().filter((d) => [a, b, c].includes(d))).toEqual([]);
  });

  it("logs keep working after the daemon is killed and started again", async () => {
    const id = await runDetached(
      "sh",
      "-c",
      "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done",
    );
    await until(async () => (await berth("logs", id)).stdout.includes("line 2"));
    const [before] = JSON.parse((await berth("inspect", id)).stdout);
    const daemon = runningDaemonPid(path.join(runRoot(), "engine.pid"));
    expect(daemon).not.toBeNull();
    process.kill(daemon!, "SIGKILL");
    await until(() => !isDaemonProcess(daemon!));
    // Written while no daemon ran: the FIFO buffers it until the next daemon drains it.
    await new Promise((r) => setTimeout(r, 600));
    const ps = await berth("ps");
    expect(ps.stderr).toContain("starting it");
    expect(ps.stdout).toContain(id.slice(0, 12));
    const next = runningDaemonPid(path.join(runRoot(), "engine.pid"));
    expect(next).not.toBe(daemon);
    // The killed daemon's idle zygotes exited; the new daemon removed their zygote-<pid> groups.
    const memoryParent = `/sys/fs/cgroup/memory/${CGROUP_PARENT}`;
    const zygoteGroups = fs.readdirSync(memoryParent).filter((n) => n.startsWith("zygote-"));
    for (const g of zygoteGroups) expect(pidAlive(Number(g.slice("zygote-".length))), g).toBe(true);
    let lines: string[] = [];
    await until(async () => {
      lines = (await berth("logs", id)).stdout.split("\n").filter((l) => l !== "");
      return lines.length >= 12;
    });
    // Old and new lines, in order, none lost across the restart.
    expect(lines).toEqual(lines.map((_, i) => `line ${i}`));
    const [after] = JSON.parse((await berth("inspect", id)).stdout);
    expect(after.pid).toBe(before.pid);
    expect((await berth("stop", "-t", "1", id)).code).toBe(0);
    const [stopped] = JSON.parse((await berth("inspect", id)).stdout);
    expect(stopped.status).toBe("exited");
    await berth("rm", id);
  });

  it("exec runs a command inside with -e, -w, -u and -i, returning its exit code", async () => {
    const id = await runDetached("--name", "berth-test-exec", "sleep", "3600");
    const r = await berth(
      "exec",
      "-e",
      "GREETING=hi",
      "-w",
      "/tmp",
      "-u",
      "65534",
      "berth-test-exec",
      "sh",
      "-c",
      'echo "$GREETING $(pwd) $(id -u) $(hostname)"; exit 6',
    );
    expect(r.stdout).toBe(`hi /tmp 65534 ${id.slice(0, 12)}\n`);
    expect(r.code).toBe(6);
    const piped = await berthWithInput("from stdin\n", "exec", "-i", id, "cat");
    expect(piped.stdout).toBe("from stdin\n");
    expect(piped.code).toBe(0);
    const missing = await berth("exec", id, "no-such-cmd");
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("command not found: no-such-cmd");
    const stats = await berth("stats", "--no-stream", id);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT/);
    expect(stats.stdout).toMatch(
      new RegExp(`${id.slice(0, 12)}\\s+berth-test-exec\\s+\\d+\\.\\d\\d%`),
    );
    await berth("stop", "-t", "0", id);
    const stopped = await berth("exec", id, "true");
    expect(stopped.code).toBe(125);
    expect(stopped.stderr).toMatch(/not running/);
    await berth("rm", id);
  });

  it("run -i passes stdin to the container", async () => {
    const r = await berthWithInput(
      "line one\n",
      "run",
      "-i",
      "--rm",
      "--network",
      "none",
      "--rootfs",
      rootfs,
      "sh",
      "-c",
      "read x; echo got $x",
    );
    expect(r.stdout).toBe("got line one\n");
    expect(r.code).toBe(0);
  });

  it("run -it under a terminal: its size from the start, and nothing but the app's output", async () => {
    // script(1) gives the CLI a pty of 100x30; the app reads the size before any resize.
    const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;
    const cli = [berthScript, "container", "run", "-it", "--rm", "--network", "none"];
    const command = [...cli, "--rootfs", rootfs, "sh", "-c", "stty size"].map(quote).join(" ");
    const { stdout } = await exec(
      "script",
      ["-qec", `stty cols 100 rows 30; ${command}`, "/dev/null"],
      {
        env,
      },
    );
    // No stray byte (a NUL showed as ^@) before the app's own output.
    expect(stdout.replace(/^berth: the engine daemon is not running.*\r\n/, "")).toMatch(
      /^30 100\r+\n$/,
    );
  });

  it.skipIf(!canBridge)(
    "run -d on the default bridge network: -p publishes a port, inspect shows the address",
    async () => {
      const port = await freePort();
      const r = await berth(
        "run",
        "-d",
        "-p",
        `${port}:80`,
        "--rootfs",
        rootfs,
        "sh",
        "-c",
        "mkdir -p /www && echo hello-through-the-daemon > /www/index.html && exec httpd -f -p 80 -h /www",
      );
      expect(r.stderr).not.toMatch(/berth: (?!the engine daemon is not running)/);
      expect(r.code).toBe(0);
      const id = r.stdout.trim();
      const [state] = JSON.parse((await berth("inspect", id)).stdout);
      expect(state.options.network).toBe("bridge");
      expect(state.network.ip.startsWith(SUBNET_PREFIX)).toBe(true);
      expect(state.network.portMappings).toEqual([
        { hostPort: port, containerPort: 80, protocol: "tcp" },
      ]);
      expect(bridgePorts(BRIDGE)).toHaveLength(1);
      expect((await berth("ps")).stdout).toMatch(new RegExp(`${id.slice(0, 12)}.*${port}->80`));
      let body = "";
      for (let i = 0; i < 30 && !body.includes("hello"); i++) {
        body = await httpGet(port);
        if (!body.includes("hello")) await new Promise((res) => setTimeout(res, 100));
      }
      expect(body).toBe("hello-through-the-daemon\n");
      expect((await berth("rm", "-f", id)).code).toBe(0);
      expect(bridgePorts(BRIDGE)).toEqual([]);
      expect(iptablesSave()).not.toContain(`--dport ${port} `);
    },
  );

  it("bad input gets one clear line, exit 125, and leaves nothing behind", async () => {
    await runDetached("--name", "berth-test-taken", "sleep", "3600");
    const before = containerDirs().sort();
    const cases: [string[], RegExp][] = [
      [
        ["run", "--rootfs", path.join(base, "missing"), "true"],
        /--rootfs .*missing: no such directory/,
      ],
      [["run", "-m", "12x", "--rootfs", rootfs, "true"], /invalid argument "12x" for --memory/],
      [["run", "-p", "abc", "--rootfs", rootfs, "true"], /invalid argument "abc" for --publish/],
      [
        ["run", "--network", "none", "--name", "berth-test-taken", "--rootfs", rootfs, "true"],
        /name berth-test-taken is already in use/,
      ],
      [["logs", "no-such-container"], /no such container: no-such-container/],
      [["stop", "no-such-container"], /no such container/],
      [["run", "--rootfs", rootfs], /missing command/],
      [
        ["run", "--network", "none", "nosuch:1.0"],
        /image nosuch:1\.0 not found locally; pull it with 'berth image pull nosuch:1\.0'/,
      ],
      [["run"], /missing image: berth container run \[OPTIONS\] IMAGE/],
    ];
    for (const [args, message] of cases) {
      const r = await berth(...args);
      expect(r.code, args.join(" ")).toBe(125);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }
    expect(containerDirs().sort()).toEqual(before);
    await berth("rm", "-f", "berth-test-taken");
  });
});
