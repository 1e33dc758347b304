import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveRuntimeConfig } from "../config.ts";
import { ContainerNetwork } from "../network/container-network.ts";
import {
  bridgePorts,
  freePort,
  type HostNetworkSnapshot,
  iptablesSave,
  linkNames,
  restoreHostNetwork,
  snapshotHostNetwork,
  startHostLoopbackServer,
} from "../network/test-host-network.ts";
import { parseRunOptions } from "../spec/run-options.ts";
import {
  expectNothingLeft,
  runToExit,
  startTestEngine,
  stopTestEngine,
  type TestEngine,
} from "./test-engine.ts";

// Test-only names: a berth-t* bridge and a subnet nothing else on the host uses (the network
// package's own tests use 10.213.61.0/24).
const BRIDGE = "berth-teng1";
const SUBNET_PREFIX = "10.213.62.";
const canRun = process.getuid?.() === 0 && fs.existsSync("/usr/lib/cni/bridge");

const argv = (t: TestEngine, ...args: string[]) => parseRunOptions(["--rootfs", t.rootfs, ...args]);

function httpGet(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/index.html", timeout: 1000 }, (res) => {
      let body = "";
      res.on("data", (b) => (body += b));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", (e: NodeJS.ErrnoException) => resolve(`ERR:${e.code}`));
  });
}

async function logsOf(t: TestEngine, id: string, until: RegExp, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = t.engine
      .logs(id)
      .map((l) => l.log)
      .join("");
    if (until.test(out) || Date.now() > deadline) return out;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!canRun)("engine: bridge network (real kernel, CNI plugins)", () => {
  let t: TestEngine;
  let hostBefore: HostNetworkSnapshot;
  const hostServers: net.Server[] = [];

  beforeAll(async () => {
    hostBefore = snapshotHostNetwork();
    t = await startTestEngine({ bridgeName: BRIDGE, subnet: `${SUBNET_PREFIX}0/24` });
  });

  afterAll(async () => {
    for (const s of hostServers) s.close();
    const config = t ? resolveRuntimeConfig(t.config) : undefined;
    await stopTestEngine(t);
    if (config) await new ContainerNetwork(config).removeBridge();
    restoreHostNetwork(hostBefore);
    expect(linkNames()).not.toContain(BRIDGE);
    expect(iptablesSave()).not.toContain(BRIDGE);
  });

  it("is the default: the container gets an address on the bridge's subnet, released on exit", async () => {
    const s = await t.engine.run(
      argv(t, "sh", "-c", "ip -4 -o addr show eth0; ip route; exec sleep 30"),
    );
    const running = t.engine.inspect(s.id);
    expect(running.network?.ip?.startsWith(SUBNET_PREFIX)).toBe(true);
    expect(bridgePorts(BRIDGE)).toHaveLength(1);
    const out = await logsOf(t, s.id, /default via/);
    expect(out).toContain(`inet ${running.network?.ip}/24`);
    expect(out).toContain(`default via ${SUBNET_PREFIX}1`);
    await t.engine.stop(s.id, 1);
    // Detached on exit: no veth on the bridge, no namespace file.
    expect(bridgePorts(BRIDGE)).toEqual([]);
    expect(fs.readdirSync(`${t.config.runRoot}/netns`)).toEqual([]);
    expect(t.engine.inspect(s.id).network).toBeNull();
    await t.engine.remove(s.id);
    expectNothingLeft(t);
  });

  it("cannot reach a server on the host's 127.0.0.1, directly or through the gateway", async () => {
    const port = await freePort();
    hostServers.push(await startHostLoopbackServer(port, "host secret"));
    const r = await runToExit(t, {
      ...argv(
        t,
        "sh",
        "-c",
        `gw=$(ip route | awk '/default/ {print $3}'); echo gw=$gw
         nc -w 2 127.0.0.1 ${port} </dev/null; nc -w 2 $gw ${port} </dev/null; echo done`,
      ),
    });
    expect(r.out).toContain(`gw=${SUBNET_PREFIX}1`);
    expect(r.out).toContain("done");
    expect(r.out).not.toContain("host secret");
  });

  it("publishes -p HOSTPORT:CTRPORT: a server in the container answers on the host", async () => {
    const port = await freePort();
    const s = await t.engine.run(
      argv(
        t,
        "-p",
        `${port}:80`,
        "sh",
        "-c",
        "mkdir -p /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 80 -h /www",
      ),
    );
    expect(t.engine.inspect(s.id).network?.portMappings).toEqual([
      { hostPort: port, containerPort: 80, protocol: "tcp" },
    ]);
    let body = "";
    for (let i = 0; i < 30 && !body.includes("hello"); i++) {
      body = await httpGet(port);
      if (!body.includes("hello")) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toBe("hello-from-berth\n");
    await t.engine.remove(s.id, { force: true });
    expect(iptablesSave()).not.toContain(`--dport ${port} `);
    expectNothingLeft(t);
  });

  it("undoes the network, cgroup and files when the start fails part-way (a mount)", async () => {
    const portBefore = await freePort();
    let error: Error | undefined;
    try {
      // A file bound onto the rootfs's /bin directory: mount(2) fails inside the zygote, after
      // the network was attached and the cgroup made.
      await t.engine.run(argv(t, "-p", `${portBefore}:80`, "-v", "/etc/hostname:/bin", "true"));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(
      /^mounting \/etc\/hostname on \/bin \(setup step \d+\): mount \/etc\/hostname on \S+\/bin failed: ENOTDIR$/,
    );
    expectNothingLeft(t);
    expect(bridgePorts(BRIDGE)).toEqual([]);
    expect(iptablesSave()).not.toContain(`--dport ${portBefore} `);
  });

  it("starts an exited container again from its config.json, with a fresh attachment", async () => {
    const s = await t.engine.create(
      argv(t, "sh", "-c", "cat /count 2>/dev/null; echo x >> /count; ip -4 -o addr show eth0"),
    );
    await t.engine.start(s.id);
    expect((await t.engine.wait(s.id)).exitCode).toBe(0);
    expect(bridgePorts(BRIDGE)).toEqual([]);
    await t.engine.start(s.id);
    expect((await t.engine.wait(s.id)).exitCode).toBe(0);
    const out = t.engine
      .logs(s.id)
      .map((l) => l.log)
      .join("");
    // The upper layer persisted between the runs; each run had an address on the bridge.
    expect(out).toContain("x\n");
    expect(out.match(new RegExp(`inet ${SUBNET_PREFIX.replaceAll(".", "\\.")}`, "g"))).toHaveLength(
      2,
    );
    await t.engine.remove(s.id);
    expectNothingLeft(t);
  });

  it("--network host shares the host's interfaces", async () => {
    const r = await runToExit(t, { ...argv(t, "--network", "host", "ls", "/sys/class/net") });
    expect(r.out.split("\n")).toEqual(expect.arrayContaining(["lo", "eth0"]));
    expect(r.state.network).toBeNull();
  });

  it("refuses a host port already taken with one line, leaving nothing behind", async () => {
    const port = await freePort();
    hostServers.push(await startHostLoopbackServer(port, "taken"));
    let error: Error | undefined;
    try {
      await t.engine.run(argv(t, "-p", `${port}:80`, "true"));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toBe(`port ${port} is already in use on the host`);
    expectNothingLeft(t);
    expect(bridgePorts(BRIDGE)).toEqual([]);
  });
});
