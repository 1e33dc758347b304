import fs from "node:fs";
import path from "node:path";
import ssh2 from "ssh2";
import { GitdError } from "./gitd-error.ts";

const KEY_FILE = "ssh_host_ed25519_key";

/**
 * The server's host key: generated once and kept, so that clients' known_hosts stay valid across
 * restarts. Written to a temporary file, fsynced and renamed, so a crash never leaves half a key.
 */
export function loadOrCreateHostKey(dir: string): Buffer {
  const file = path.join(dir, KEY_FILE);
  if (fs.existsSync(file)) return readHostKey(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment: "berth-gitd" });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, pair.private);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
  fs.renameSync(tmp, file);
  return readHostKey(file);
}

function readHostKey(file: string): Buffer {
  const bytes = fs.readFileSync(file);
  const parsed = ssh2.utils.parseKey(bytes);
  if (parsed instanceof Error) {
    throw new GitdError(
      "HOST_KEY",
      `the SSH host key ${file} cannot be read (${parsed.message}); move it aside and restart to make a new one (clients will then warn that the host key changed)`,
      { path: file },
    );
  }
  return bytes;
}
