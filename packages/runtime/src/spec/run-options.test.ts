import { describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import { parseRunOptions, runOptionsSchema } from "./run-options.ts";

const files: Record<string, string> = {
  "/cfg/app.env": "# app\nA=from-file\nB=file\nHOME\n",
  "/cfg/seccomp.json": JSON.stringify({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mount"], action: "SCMP_ACT_ERRNO" }],
  }),
};
const context = {
  hostEnv: { HOME: "/root", TOKEN: "s3cret" },
  readFile: (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
    return Buffer.from(text);
  },
};
const run = (...argv: string[]) => parseRunOptions(argv, context);

describe("parseRunOptions", () => {
  it("gives Docker's defaults for a bare run", () => {
    expect(run("--rootfs", "/r", "sh")).toEqual({
      detach: false,
      rm: false,
      interactive: false,
      tty: false,
      env: [],
      volumes: [],
      ports: [],
      network: "bridge",
      rootfs: "/r",
      restart: { name: "no" },
      capAdd: [],
      capDrop: [],
      security: { seccomp: { mode: "default" }, noNewPrivileges: true },
      command: ["sh"],
    });
  });

  it("reads every flag, in long, short, attached and = forms", () => {
    const options = run(
      "-dit",
      "--rm=false",
      "--name=web",
      "-e",
      "A=1",
      "-eTOKEN",
      "--env",
      "UNSET",
      "--env-file",
      "/cfg/app.env",
      "-w",
      "/app",
      "-u",
      "1000:1000",
      "-h",
      "web-1",
      "-m256m",
      "--memory-swap",
      "1g",
      "--cpus",
      "0.5",
      "-c",
      "512",
      "--pids-limit",
      "100",
      "-v",
      "/srv:/data:ro",
      "-p",
      "8080:80",
      "--publish=127.0.0.1:5353:53/udp",
      "--net",
      "none",
      "--rootfs",
      "/var/lib/rootfs",
      "--restart",
      "on-failure:3",
      "--stop-signal",
      "SIGQUIT",
      "--stop-timeout",
      "30",
      "--cap-add",
      "net_admin",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "seccomp=/cfg/seccomp.json",
      "--security-opt",
      "no-new-privileges=false",
      "node",
      "server.js",
      "--port",
      "80",
    );
    expect(options).toMatchObject({
      detach: true,
      interactive: true,
      tty: true,
      rm: false,
      name: "web",
      env: ["A=1", "B=file", "HOME=/root", "TOKEN=s3cret"],
      workdir: "/app",
      user: { user: { id: 1000 }, group: { id: 1000 } },
      hostname: "web-1",
      memory: 256 * 1024 ** 2,
      memorySwap: 1024 ** 3,
      nanoCpus: 500_000_000,
      cpuShares: 512,
      pidsLimit: 100,
      volumes: [{ source: "/srv", destination: "/data", readonly: true }],
      ports: [
        { hostPort: 8080, containerPort: 80, protocol: "tcp" },
        { hostIp: "127.0.0.1", hostPort: 5353, containerPort: 53, protocol: "udp" },
      ],
      network: "none",
      rootfs: "/var/lib/rootfs",
      restart: { name: "on-failure", maxRetries: 3 },
      stopSignal: 3,
      stopTimeout: 30,
      capAdd: ["CAP_NET_ADMIN"],
      capDrop: ["ALL"],
      security: { seccomp: { mode: "profile", path: "/cfg/seccomp.json" }, noNewPrivileges: false },
      command: ["node", "server.js", "--port", "80"],
    });
    expect(options.env).not.toContain("A=from-file");
    expect(() => runOptionsSchema.parse(options)).not.toThrow();
  });

  it("lets -e override --env-file and keeps the last value of single flags", () => {
    const options = run(
      "--env-file",
      "/cfg/app.env",
      "-e",
      "A=flag",
      "--name",
      "a1",
      "--name",
      "a2",
      "--rootfs",
      "/r",
      "true",
    );
    expect(options.env).toEqual(["A=flag", "B=file", "HOME=/root"]);
    expect(options.name).toBe("a2");
  });

  it("stops at the command and at --", () => {
    expect(run("--rootfs", "/r", "ls", "-l", "--name", "x").command).toEqual([
      "ls",
      "-l",
      "--name",
      "x",
    ]);
    expect(run("--rootfs", "/r", "--", "-weird").command).toEqual(["-weird"]);
  });

  it.each([
    [
      ["--rootfs", "/r", "-m", "lots", "sh"],
      'invalid argument "lots" for --memory: expected a size such as 256m (a number with unit b, k, m or g)',
    ],
    [
      ["--rootfs", "/r", "-p", "80", "sh"],
      'invalid argument "80" for --publish: expected HOSTPORT:CTRPORT[/tcp|udp] or IP:HOSTPORT:CTRPORT[/tcp|udp]',
    ],
    [
      ["--rootfs", "/r", "-v", "../rel:/x", "sh"],
      `invalid argument "../rel:/x" for --volume: "../rel" is not a volume name (2 or more letters, digits, '_', '.', '-', the first a letter or digit); for a host directory give an absolute path`,
    ],
    [
      ["--rootfs", "/r", "-u", "a:b:c", "sh"],
      'invalid argument "a:b:c" for --user: expected UID[:GID] or NAME[:GROUP]',
    ],
    [
      ["--rootfs", "/r", "--cap-add", "WIZARD", "sh"],
      'invalid argument "WIZARD" for --cap-add: unknown capability; expected a name such as NET_ADMIN, or ALL',
    ],
    [["--rootfs", "/r", "--bogus", "sh"], "unknown flag: --bogus"],
    [["--rootfs", "/r", "-x", "sh"], "unknown shorthand flag: 'x' in -x"],
    [["--rootfs", "/r", "--rm=maybe", "sh"], "flag --rm takes true or false"],
    [["--rootfs", "/r", "--memory"], "flag needs an argument: --memory"],
    [["--rootfs", "/r", "-m"], "flag needs an argument: 'm' in -m"],
    [[], "missing image: berth container run [OPTIONS] IMAGE [COMMAND] (or --rootfs DIR COMMAND)"],
    [
      ["-d", "--", ""],
      "missing image: berth container run [OPTIONS] IMAGE [COMMAND] (or --rootfs DIR COMMAND)",
    ],
    [
      ["--rootfs", "/r"],
      "missing command: give the program to run after --rootfs DIR and the options",
    ],
    [["--rootfs", "/r", "--env-file", "/nope.env", "sh"], "cannot read env file /nope.env: ENOENT"],
    [["--rootfs", "/r", "-v", "/a:/x", "-v", "/b:/x/", "sh"], "duplicate mount point: /x"],
    [["--rootfs", "/r", "-p", "80:80", "-p", "80:81", "sh"], "host port 80/tcp is published twice"],
    [["--rootfs", "/r", "--memory-swap", "1g", "sh"], "--memory-swap needs --memory as well"],
    [
      ["--rootfs", "/r", "-m", "1g", "--memory-swap", "512m", "sh"],
      "--memory-swap must be at least --memory (it counts memory plus swap)",
    ],
    [
      ["--rootfs", "/r", "--rm", "--restart", "always", "sh"],
      "--rm and --restart cannot be used together",
    ],
    [
      ["--rootfs", "/r", "--network", "host", "-p", "80:80", "sh"],
      "-p has no effect with --network host: the container uses the host's ports",
    ],
    [
      ["--rootfs", "/r", "--security-opt", "seccomp=/missing.json", "sh"],
      "cannot read seccomp profile /missing.json: ENOENT",
    ],
  ])("rejects %j", (argv, message) => {
    expectInvalid(() => parseRunOptions(argv, context), message);
  });
});
