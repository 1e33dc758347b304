import { existsSync } from "node:fs";
import { join } from "node:path";
import { EngineClient } from "@berth/runtime/engine-client";
import { parseRunOptions } from "@berth/runtime/run-options";
import { busyboxRootfs } from "@berth/runtime/test-busybox-rootfs";
import {
  makeBase,
  removeBase,
  runcBundle,
  runcCleanup,
  runcRunDetached,
  sleep,
  startBenchDaemon,
} from "../container-bench.ts";
import type { Benchmark } from "../harness.ts";

const COUNT = 50;

/**
 * 50 containers (`sleep 3600`) started at once through the engine daemon's API, until all are
 * running, beside 50 `runc run -d` started at once. Counts the containers that really run
 * afterwards: none may be lost.
 */
export const benchmark: Benchmark = {
  name: "container-parallel",
  async skipReason() {
    if (process.getuid?.() !== 0) return "needs root";
    if (!existsSync("/usr/sbin/runc"))
      return "Debian's runc is not installed (apt-get install runc)";
    return undefined;
  },
  async run(log) {
    const rootfs = busyboxRootfs();
    const base = makeBase("par");
    const runcIds = Array.from(
      { length: COUNT },
      (_, i) => `berth-test-bench-par-${process.pid}-${i}`,
    );
    try {
      await startBenchDaemon(base);
      const client = new EngineClient(join(base.daemon.runRoot, "engine.sock"));
      const options = parseRunOptions([
        "-d",
        "--network",
        "none",
        "--rootfs",
        rootfs,
        "sleep",
        "3600",
      ]);
      const warm = await client.create({ options: { ...options, command: ["/bin/true"] } });
      await client.wait(warm.id);
      await client.remove(warm.id);
      await sleep(2000);

      const t0 = performance.now();
      const results = await Promise.allSettled(
        Array.from({ length: COUNT }, () => client.create({ options })),
      );
      const ours = performance.now() - t0;
      const failures = results.filter((r) => r.status === "rejected");
      const ourRunning = (await client.list()).filter((s) => s.status === "running").length;
      if (failures.length > 0)
        log(`first failure: ${String((failures[0] as PromiseRejectedResult).reason)}`);
      log(`berth: ${ourRunning}/${COUNT} running after ${ours.toFixed(0)} ms`);
      for (const s of await client.list(true)) await client.remove(s.id, true);

      const bundle = await runcBundle(base, rootfs, ["sleep", "3600"]);
      const t1 = performance.now();
      const codes = await Promise.all(runcIds.map((id) => runcRunDetached(base, bundle, id)));
      const peer = performance.now() - t1;
      const runcOk = codes.filter((c) => c === 0).length;
      log(`runc: ${runcOk}/${COUNT} exited 0 after ${peer.toFixed(0)} ms`);
      return [
        {
          metric: `${COUNT} containers started in parallel, until all run`,
          unit: "ms",
          ours,
          peer,
          peerName: `${COUNT} × runc run -d`,
          note: `running: berth ${ourRunning}/${COUNT}, runc ${runcOk}/${COUNT}`,
        },
      ];
    } finally {
      await runcCleanup(base, runcIds);
      await removeBase(base);
    }
  },
};
