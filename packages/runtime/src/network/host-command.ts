import { execFile } from "node:child_process";
import { RuntimeError } from "../errors.ts";

/** Runs a host tool (iptables, ip) with an argv array; the seam for unit tests of the firewall. */
export type HostCommand = (file: string, args: readonly string[]) => Promise<string>;

const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Resolves with stdout; rejects with NETWORK_FAILED quoting the command line and its stderr. */
export const runHostCommand: HostCommand = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { env: { PATH: HOST_PATH }, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const detail = String(stderr).trim() || error.message;
        reject(
          new RuntimeError("NETWORK_FAILED", `${[file, ...args].join(" ")} failed: ${detail}`, {
            exitCode: error.code,
          }),
        );
      },
    );
  });
