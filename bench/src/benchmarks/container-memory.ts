import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EngineClient } from "@berth/runtime/engine-client";
import { parseRunOptions } from "@berth/runtime/run-options";
import { busyboxRootfs } from "@berth/runtime/test-busybox-rootfs";
import {
  childPids,
  makeBase,
  pssMiB,
  removeBase,
  runcBundle,
  runcCleanup,
  runcRunDetached,
  sleep,
  startBenchDaemon,
} from "../container-bench.ts";
import type { Benchmark } from "../harness.ts";

const COUNT = 20;

/**
 * Host memory per running container beyond the container's own processes, with 20 idle
 * containers (`sleep 3600`): the growth of what Berth runs outside the containers (the daemon and
 * its idle zygotes, PSS) divided by 20; and separately Berth's init inside each container (a
 * static busybox sh; its text is shared by all containers, so its PSS is small). runc leaves no
 * process behind `runc run -d`: its figure is measured the same way and is 0.
 */
export const benchmark: Benchmark = {
  name: "container-memory",
  async skipReason() {
    if (process.getuid?.() !== 0) return "needs root";
    if (!existsSync("/usr/sbin/runc"))
      return "Debian's runc is not installed (apt-get install runc)";
    return undefined;
  },
  async run(log) {
    const rootfs = busyboxRootfs();
    const base = makeBase("mem");
    const runcIds: string[] = [];
    try {
      const daemonPid = await startBenchDaemon(base);
      const client = new EngineClient(join(base.daemon.runRoot, "engine.sock"));
      const options = (args: string[]) =>
        parseRunOptions(["-d", "--network", "none", "--rootfs", rootfs, ...args]);
      // Warm every code path once, then let the zygote pool refill and settle.
      const warm = await client.create({ options: options(["/bin/true"]) });
      await client.wait(warm.id);
      await client.remove(warm.id);
      await sleep(3000);
      const containerPids = new Set<number>();
      /** The daemon and its children that are not containers (idle zygotes, helpers). */
      const berthOutside = () =>
        [daemonPid, ...childPids(daemonPid).filter((p) => !containerPids.has(p))].reduce(
          (sum, p) => sum + pssMiB(p),
          0,
        );
      const before = berthOutside();
      for (let i = 0; i < COUNT; i++) {
        const s = await client.create({ options: options(["sleep", "3600"]) });
        if (s.pid !== null) containerPids.add(s.pid);
      }
      await sleep(3000);
      const after = berthOutside();
      const running = (await client.list()).filter((s) => s.status === "running");
      const initPss = running.map((s) => pssMiB(s.pid!));
      const perInit = initPss.reduce((a, b) => a + b, 0) / Math.max(1, initPss.length);
      const perDaemon = (after - before) / COUNT;
      log(
        `fixed base (daemon + idle zygotes) ${before.toFixed(1)} MiB PSS → ${after.toFixed(1)} MiB with ` +
          `${running.length} containers; per container ${perDaemon.toFixed(3)} MiB outside + ` +
          `${perInit.toFixed(3)} MiB init`,
      );
      for (const s of running) await client.remove(s.id, true);

      const bundle = await runcBundle(base, rootfs, ["sleep", "3600"]);
      // Other runc processes on the host (other work) are not ours to count.
      const foreign = new Set(runcProcesses());
      for (let i = 0; i < COUNT; i++) {
        const id = `berth-test-bench-mem-${process.pid}-${i}`;
        runcIds.push(id);
        const code = await runcRunDetached(base, bundle, id);
        if (code !== 0) throw new Error(`runc run -d exited ${code}`);
      }
      // What runc leaves on the host besides the containers' own processes: no runc process.
      const remaining = runcProcesses().filter((p) => !foreign.has(p));
      const leftover = remaining.reduce((sum, p) => sum + pssMiB(p), 0) / COUNT;
      log(`runc: ${remaining.length} runc processes remain after ${COUNT} × runc run -d`);
      return [
        {
          metric: `host memory per idle container outside it (PSS growth / ${COUNT})`,
          unit: "MiB",
          ours: perDaemon,
          peer: leftover,
          peerName: "runc run -d",
          note: "runc leaves no process: 0; bar ≤ 1 MiB",
        },
        {
          metric: "… plus Berth's init (busybox sh) inside each container",
          unit: "MiB",
          ours: perDaemon + perInit,
          peer: leftover,
          peerName: "runc run -d",
          note: "runc execs the app as PID 1",
        },
      ];
    } finally {
      await runcCleanup(base, runcIds);
      await removeBase(base);
    }
  },
};

/** Processes whose command is runc (a `runc run` still attached, or a `runc init`). */
function runcProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)) {
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim().startsWith("runc")) pids.push(entry);
    } catch {
      // gone
    }
  }
  return pids;
}
