import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort } from "../network/free-port.ts";

export interface TestRegistry {
  host: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Test-only: Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 with its storage under
 * `dir`; with `htpasswd` users it requires basic auth (bcrypt, as distribution insists).
 */
export async function startTestRegistry(
  dir: string,
  users: Record<string, string> = {},
): Promise<TestRegistry> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  let auth = "";
  if (Object.keys(users).length > 0) {
    const lines = Object.entries(users).map(([user, password]) =>
      execFileSync("htpasswd", ["-Bbn", user, password], { encoding: "utf8" }).trim(),
    );
    fs.writeFileSync(path.join(dir, "htpasswd"), `${lines.join("\n")}\n`);
    auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${path.join(dir, "htpasswd")}\n`;
  }
  const config = path.join(dir, "config.yml");
  fs.writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: berth-test-secret\n${auth}`,
  );
  const log = fs.openSync(path.join(dir, "registry.log"), "a");
  const child: ChildProcess = spawn("/usr/bin/docker-registry", ["serve", config], {
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(child.pid, "SIGTERM");
      await exited;
    }
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    try {
      await fetch(`http://${host}/v2/`);
      return { host, pid: child.pid as number, dir, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(
    `docker-registry did not start on ${host}: ${fs.readFileSync(path.join(dir, "registry.log"), "utf8")}`,
  );
}
