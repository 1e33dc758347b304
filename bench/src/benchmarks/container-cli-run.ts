import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { busyboxRootfs } from "@berth/runtime/test-busybox-rootfs";
import { repoRoot } from "../bench-env.ts";
import { makeBase, removeBase, runcBundle, startBenchDaemon } from "../container-bench.ts";
import { type Benchmark, median, timeMs } from "../harness.ts";

const run = promisify(execFile);
const ROUNDS = 10;

/**
 * `./berth container run --rm … /bin/true` as a whole command (bash bootstrap, Node + tsx, the
 * CLI, the daemon's start and exit, removal) beside the whole `runc run` command. The engine daemon
 * is already running, as after `./berth up`.
 */
export const benchmark: Benchmark = {
  name: "container-cli-run",
  async skipReason() {
    if (process.getuid?.() !== 0) return "needs root";
    if (!existsSync("/usr/sbin/runc"))
      return "Debian's runc is not installed (apt-get install runc)";
    return undefined;
  },
  async run(log) {
    const rootfs = busyboxRootfs();
    const base = makeBase("cli");
    try {
      await startBenchDaemon(base);
      const berth = join(repoRoot, "berth");
      const args = [
        "container",
        "run",
        "--rm",
        "--network",
        "none",
        "--rootfs",
        rootfs,
        "/bin/true",
      ];
      await run(berth, args, { env: base.env }); // warm the page cache and tsx's cache
      const ours: number[] = [];
      for (let i = 0; i < ROUNDS; i++)
        ours.push(await timeMs(() => run(berth, args, { env: base.env })));
      const bundle = await runcBundle(base, rootfs, ["/bin/true"]);
      const peer: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const t0 = performance.now();
        const r = spawnSync(
          "runc",
          [
            "--root",
            base.runcRoot,
            "run",
            "--bundle",
            bundle,
            `berth-test-bench-cli-${process.pid}-${i}`,
          ],
          { stdio: "ignore" },
        );
        peer.push(performance.now() - t0);
        if (r.status !== 0) throw new Error(`runc run exited ${r.status}`);
      }
      log(
        `./berth container run --rm: median ${median(ours).toFixed(0)} ms; runc run: ${median(peer).toFixed(1)} ms`,
      );
      return [
        {
          metric: `whole command: run --rm /bin/true (median of ${ROUNDS})`,
          unit: "ms",
          ours: median(ours),
          peer: median(peer),
          peerName: "runc run",
          note: "ours includes bash bootstrap + Node/tsx start of the CLI",
        },
      ];
    } finally {
      await removeBase(base);
    }
  },
};
