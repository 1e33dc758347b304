// Median start-to-exit of /bin/true: Berth's engine API from a warm process vs `runc run` of the
// same busybox rootfs. Run by hand as root: node --import tsx packages/runtime/bench/start-to-exit.mts [N]
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { busyboxRootfs } from "../src/container/test-busybox-rootfs.ts";
import { createEngine } from "../src/engine/engine.ts";

const N = Number(process.argv[2] ?? 30);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rootfs = busyboxRootfs();
const root = fs.mkdtempSync(path.join(os.tmpdir(), "berth-bench-"));

const engine = await createEngine(
  { root: `${root}/lib`, runRoot: `${root}/run`, cgroupParent: `berth-bench-${process.pid}` },
  { poolSize: 2 },
);
await engine.warm();
const berth: number[] = [];
for (let i = 0; i < N; i++) {
  await engine.warm();
  const t0 = performance.now();
  const s = await engine.run({ rootfs, args: ["/bin/true"] });
  const exit = await engine.wait(s.id);
  berth.push(performance.now() - t0);
  if (exit.exitCode !== 0) throw new Error(`exit ${exit.exitCode}`);
  await engine.remove(s.id);
}
await engine.close();

// runc: an OCI bundle over the same rootfs (runc spec's defaults, read-only root, no terminal).
const bundle = `${root}/bundle`;
fs.mkdirSync(bundle);
execFileSync("runc", ["spec", "--bundle", bundle]);
const spec = JSON.parse(fs.readFileSync(`${bundle}/config.json`, "utf8"));
spec.root = { path: rootfs, readonly: true };
spec.process.terminal = false;
spec.process.args = ["/bin/true"];
fs.writeFileSync(`${bundle}/config.json`, JSON.stringify(spec));
const runc: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const r = spawnSync(
    "runc",
    ["--root", `${root}/runc`, "run", "--bundle", bundle, `berth-bench-${i}`],
    {
      stdio: "inherit",
    },
  );
  runc.push(performance.now() - t0);
  if (r.status !== 0) throw new Error(`runc exit ${r.status}`);
}
fs.rmSync(root, { recursive: true, force: true });
const b = median(berth);
const r = median(runc);
console.log(`start-to-exit of /bin/true, median of ${N}:`);
console.log(`  berth engine API (warm): ${b.toFixed(1)} ms`);
console.log(`  runc run:                ${r.toFixed(1)} ms`);
console.log(`  ratio berth/runc:        ${(b / r).toFixed(2)}`);
