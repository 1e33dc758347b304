import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createEngine } from "@berth/runtime/engine";
import { busyboxRootfs } from "@berth/runtime/test-busybox-rootfs";
import { makeBase, removeBase, runcBundle } from "../container-bench.ts";
import { type Benchmark, median } from "../harness.ts";

const ROUNDS = 30;

/**
 * Start-to-exit of `/bin/true` in a busybox container: Berth's engine API from a warm process
 * (zygote pool booted) beside `runc run` of the same rootfs (Debian's runc; `runc spec` defaults).
 * Both without a network (runc's default spec has an empty network namespace).
 */
export const benchmark: Benchmark = {
  name: "container-start-to-exit",
  async skipReason() {
    if (process.getuid?.() !== 0) return "needs root";
    if (!existsSync("/usr/sbin/runc"))
      return "Debian's runc is not installed (apt-get install runc)";
    return undefined;
  },
  async run(log) {
    const rootfs = busyboxRootfs();
    const base = makeBase("start");
    try {
      const engine = await createEngine(
        { root: `${base.dir}/lib`, runRoot: `${base.dir}/run`, cgroupParent: base.cgroupParent },
        { poolSize: 2 },
      );
      const ours: number[] = [];
      try {
        for (let i = 0; i < ROUNDS; i++) {
          await engine.warm();
          const t0 = performance.now();
          const s = await engine.run({ rootfs, command: ["/bin/true"], network: "none" });
          const exit = await engine.wait(s.id);
          ours.push(performance.now() - t0);
          if (exit.exitCode !== 0) throw new Error(`/bin/true exited ${exit.exitCode}`);
          await engine.remove(s.id);
        }
      } finally {
        for (const s of engine.list({ all: true })) await engine.remove(s.id, { force: true });
        await engine.close();
      }
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
            `berth-test-bench-${process.pid}-${i}`,
          ],
          { stdio: "ignore" },
        );
        peer.push(performance.now() - t0);
        if (r.status !== 0) throw new Error(`runc run exited ${r.status}`);
      }
      log(
        `engine API: median ${median(ours).toFixed(1)} ms; runc run: ${median(peer).toFixed(1)} ms`,
      );
      return [
        {
          metric: `start → exit of /bin/true, engine API from a warm process (median of ${ROUNDS})`,
          unit: "ms",
          ours: median(ours),
          peer: median(peer),
          peerName: "runc run",
        },
      ];
    } finally {
      await removeBase(base);
    }
  },
};
