// Helpers for the network integration tests only: inspecting namespaces from outside, talking to
// servers inside them, and restoring the host state the CNI plugins change as a side effect.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** Runs a command inside a pinned namespace file (`ip netns exec` only knows /run/netns). */
export function inNetns(netnsPath: string, argv: string[]): string {
  return execFileSync("nsenter", [`--net=${netnsPath}`, ...argv], { encoding: "utf8" });
}

export interface NetnsServer {
  child: ChildProcess;
  stop(): void;
}

/** A TCP server replying `reply`, started with node inside the namespace, ready when resolved. */
export function startServerInNetns(
  netnsPath: string,
  port: number,
  reply: string,
): Promise<NetnsServer> {
  const code = `require("node:net").createServer((s) => s.end(${JSON.stringify(reply)})).listen(${port}, "0.0.0.0", () => console.log("ready"));`;
  return startNode([`--net=${netnsPath}`, process.execPath, "-e", code], "nsenter");
}

/** A TCP server on the host's loopback (127.0.0.1:port), the kind containers must not reach. */
export function startHostLoopbackServer(port: number, reply: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.end(reply));
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function startNode(argv: string[], file: string): Promise<NetnsServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ["ignore", "pipe", "inherit"] });
    const stop = () => {
      if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGKILL");
    };
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server exited early (${code})`)));
    child.stdout?.on("data", (b: Buffer) => {
      if (b.toString().includes("ready")) resolve({ child, stop });
    });
  });
}

/** Connects from the host and returns what the server sent, or `ERR:<code>`. */
export function tcpRead(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve("ERR:timeout");
    });
    socket.on("data", (b) => chunks.push(b));
    socket.on("error", (e: NodeJS.ErrnoException) => resolve(`ERR:${e.code}`));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString()));
  });
}

/**
 * Connects from inside the namespace (a node client run by nsenter); same answers as tcpRead.
 * Asynchronous on purpose: the servers these tests talk to live in this process's event loop.
 */
export function tcpReadFromNetns(
  netnsPath: string,
  host: string,
  port: number,
  timeoutMs = 1500,
): Promise<string> {
  const code = `
const s = require("node:net").connect({ host: ${JSON.stringify(host)}, port: ${port} });
let out = "";
s.setTimeout(${timeoutMs}, () => { process.stdout.write("ERR:timeout"); process.exit(0); });
s.on("data", (b) => (out += b));
s.on("error", (e) => { process.stdout.write("ERR:" + e.code); process.exit(0); });
s.on("end", () => { process.stdout.write(out); process.exit(0); });`;
  return new Promise((resolve, reject) => {
    execFile(
      "nsenter",
      [`--net=${netnsPath}`, process.execPath, "-e", code],
      { encoding: "utf8" },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

export { freePort } from "./free-port.ts";

export function iptablesSave(): string {
  return execFileSync("iptables-save", { encoding: "utf8" });
}

export function linkNames(): string[] {
  return execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(": ")[1]?.split("@")[0] ?? "")
    .filter(Boolean);
}

/** Interfaces enslaved to `bridge` (the host ends of containers' veths). */
export function bridgePorts(bridge: string): string[] {
  if (!fs.existsSync(`/sys/class/net/${bridge}/brif`)) return [];
  return fs.readdirSync(`/sys/class/net/${bridge}/brif`);
}

const SHARED_PORTMAP_CHAINS = ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"];

/** Host state that the plugins change beyond Berth's own objects, saved before the tests. */
export interface HostNetworkSnapshot {
  ipForward: string;
  natChains: Set<string>;
  nftTables: Set<string>;
}

// Suites may overlap (this one and the engine's): the first to start records the host as it was,
// later ones reuse that record, and the last to finish restores it.
const BASELINE = path.join(os.tmpdir(), "berth-test-host-network.json");
const otherSuitesActive = () => linkNames().some((l) => l.startsWith("berth-t"));

export function snapshotHostNetwork(): HostNetworkSnapshot {
  if (otherSuitesActive() && fs.existsSync(BASELINE)) {
    const saved = JSON.parse(fs.readFileSync(BASELINE, "utf8"));
    return {
      ipForward: saved.ipForward,
      natChains: new Set(saved.natChains),
      nftTables: new Set(saved.nftTables),
    };
  }
  const snapshot = {
    ipForward: fs.readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim(),
    natChains: natChains(),
    nftTables: nftTables(),
  };
  fs.writeFileSync(
    BASELINE,
    JSON.stringify({
      ...snapshot,
      natChains: [...snapshot.natChains],
      nftTables: [...snapshot.nftTables],
    }),
  );
  return snapshot;
}

/**
 * Puts back what the tests' plugins changed on the shared host, and only that: ip_forward (the
 * bridge plugin turns it on), portmap's shared chains and the nf_tables tables iptables-nft
 * created — each only if absent before the tests and empty now, so nobody else's use is touched.
 * Call it after the suite's own bridge is deleted.
 */
export function restoreHostNetwork(before: HostNetworkSnapshot): void {
  // Another suite's bridge still up means it may be mid-ADD: leave the shared state to the last
  // suite, whose restore finds no berth-t* link (each suite deletes its own bridge first).
  if (otherSuitesActive()) return;
  fs.rmSync(BASELINE, { force: true });
  fs.writeFileSync("/proc/sys/net/ipv4/ip_forward", before.ipForward);
  const created = SHARED_PORTMAP_CHAINS.filter(
    (c) => !before.natChains.has(c) && natChains().has(c),
  );
  if (created.length > 0 && !portmapInUse()) {
    const jumps = [
      ["PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"],
      ["OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"],
      [
        "POSTROUTING",
        "-m",
        "comment",
        "--comment",
        "CNI portfwd requiring masquerade",
        "-j",
        "CNI-HOSTPORT-MASQ",
      ],
    ];
    for (const jump of jumps) tryRun("iptables", ["-w", "-t", "nat", "-D", ...jump]);
    for (const chain of created) {
      tryRun("iptables", ["-w", "-t", "nat", "-F", chain]);
      tryRun("iptables", ["-w", "-t", "nat", "-X", chain]);
    }
  }
  for (const table of nftTables()) {
    if (!before.nftTables.has(table) && nftTableIsEmpty(table)) {
      tryRun("nft", ["delete", "table", ...table.split(" ")]);
    }
  }
}

// Any container of any CNI user with a published port has a rule in CNI-HOSTPORT-DNAT.
function portmapInUse(): boolean {
  const save = execFileSync("iptables-save", ["-t", "nat"], { encoding: "utf8" });
  return save
    .split("\n")
    .some((l) => l.startsWith("-A CNI-HOSTPORT-DNAT ") || l.startsWith(":CNI-DN-"));
}

function natChains(): Set<string> {
  const out = execFileSync("iptables-save", ["-t", "nat"], { encoding: "utf8" });
  return new Set(
    out
      .split("\n")
      .filter((l) => l.startsWith(":"))
      .map((l) => l.slice(1).split(" ")[0]!),
  );
}

function nftTables(): Set<string> {
  try {
    const out = execFileSync("nft", ["list", "tables"], { encoding: "utf8" });
    return new Set(
      out
        .split("\n")
        .filter((l) => l.startsWith("table "))
        .map((l) => l.slice("table ".length).trim()),
    );
  } catch {
    return new Set();
  }
}

// Empty: no rules and no chains but the base chains iptables-nft adds with an accept policy.
function nftTableIsEmpty(table: string): boolean {
  try {
    const out = execFileSync("nft", ["list", "table", ...table.split(" ")], { encoding: "utf8" });
    const lines = out.split("\n").map((l) => l.trim());
    const rules = lines.filter(
      (l) =>
        l &&
        !l.startsWith("table ") &&
        !l.startsWith("chain ") &&
        !l.startsWith("type ") &&
        l !== "}",
    );
    return rules.length === 0;
  } catch {
    return false;
  }
}

function tryRun(file: string, args: string[]): void {
  try {
    execFileSync(file, args, { stdio: "ignore" });
  } catch {}
}
