#!/usr/bin/env node
// Installed (through a two-line shell wrapper) as every app repository's pre-receive hook. It hands
// the pushed ref updates to the Berth git server that started this `git receive-pack`, relays the
// build and release output (git shows it to the pusher as `remote:` lines), and exits with the
// verdict: non-zero rejects the push. Plain JavaScript: it runs on every push, without a loader.
import net from "node:net";

const socketPath = process.env.BERTH_GITD_HOOK_SOCKET;
const pushId = process.env.BERTH_PUSH_ID;
if (!socketPath || !pushId) {
  process.stderr.write("this repository takes pushes only through Berth's git server (ssh)\n");
  process.exit(1);
}

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const updates = input
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => {
    const [oldSha, newSha, ref] = l.split(" ");
    return { oldSha, newSha, ref };
  });

// git runs this hook with the pushed objects in a quarantine directory; whoever reads them must
// see the same object directories.
const gitEnv = {};
for (const name of [
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_QUARANTINE_PATH",
]) {
  if (process.env[name] !== undefined) gitEnv[name] = process.env[name];
}

const socket = net.connect(socketPath);
let exitCode = null;
let buffered = "";
socket.setEncoding("utf8");
socket.on("connect", () => socket.write(`${JSON.stringify({ pushId, updates, gitEnv })}\n`));
socket.on("data", (chunk) => {
  buffered += chunk;
  let nl = buffered.indexOf("\n");
  while (nl >= 0) {
    const message = JSON.parse(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
    if (typeof message.out === "string") process.stdout.write(message.out);
    if (typeof message.exit === "number") exitCode = message.exit;
    nl = buffered.indexOf("\n");
  }
});
socket.on("error", (e) => {
  process.stderr.write(`cannot reach Berth's git server at ${socketPath}: ${e.message}\n`);
  process.exit(1);
});
socket.on("close", () => {
  if (exitCode === null) process.stderr.write("Berth's git server went away during the push\n");
  process.exit(exitCode ?? 1);
});
