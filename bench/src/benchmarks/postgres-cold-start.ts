import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@berth/runtime/free-port";
import { repoRoot } from "../bench-env.ts";
import { type Benchmark, median, timeMs } from "../harness.ts";

const run = promisify(execFile);
const ROUNDS = 5;

/**
 * `./berth up` from stopped to a Postgres that answers queries, beside bare `pg_ctl start -w` of
 * the very same cluster. Runs on its own data directory and port, so a running Berth is untouched.
 */
export const benchmark: Benchmark = {
  name: "postgres-cold-start",
  async skipReason() {
    if (process.getuid?.() !== 0) return "needs root (initdb runs as the postgres user)";
    if (!existsSync("/usr/lib/postgresql")) return "Debian's postgresql is not installed";
    return undefined;
  },
  async run(log) {
    const base = await mkdtemp(join(tmpdir(), "berth-test-bench-pg-"));
    await chmod(base, 0o755); // the postgres user must reach its data directory
    const env = {
      ...process.env,
      BERTH_DATA_DIR: join(base, "data"),
      BERTH_BASE_IMAGES: "",
      BERTH_RUN_DIR: join(base, "run"),
      BERTH_PG_PORT: String(await freePort()),
    };
    const berth = (verb: string) => run(join(repoRoot, "berth"), [verb], { env });
    try {
      log("first ./berth up (initdb, migrations) — not timed");
      await berth("up");
      const status = JSON.parse(
        (await run(join(repoRoot, "berth"), ["status", "--json"], { env })).stdout,
      );
      const { dataDir } = status.postgres as { dataDir: string };
      const pgCtl = await newestPgCtl();
      const asPostgres = (args: string[]) =>
        run("runuser", ["-u", "postgres", "--", pgCtl, ...args]);
      const ours: number[] = [];
      const peer: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        await berth("down");
        ours.push(await timeMs(() => berth("up")));
        await berth("down");
        peer.push(
          await timeMs(() => asPostgres(["start", "-w", "-s", "-D", dataDir, "-l", "/dev/null"])),
        );
        await asPostgres(["stop", "-m", "fast", "-s", "-D", dataDir]);
        log(
          `round ${round + 1}: berth up ${ours.at(-1)?.toFixed(0)} ms, pg_ctl start ${peer.at(-1)?.toFixed(0)} ms`,
        );
      }
      return [
        {
          metric: "stopped → accepting queries (whole command)",
          unit: "ms",
          ours: median(ours),
          peer: median(peer),
          peerName: "pg_ctl start -w",
          note: "berth up also checks packages, npm deps and migrations",
        },
      ];
    } finally {
      await berth("down").catch(() => undefined);
      await rm(base, { recursive: true, force: true });
    }
  },
};

/** Debian's pg_ctl of the newest installed server version, the one `berth up` uses too. */
async function newestPgCtl(): Promise<string> {
  const majors = (await readdir("/usr/lib/postgresql")).map(Number).filter(Number.isInteger);
  return `/usr/lib/postgresql/${Math.max(...majors)}/bin/pg_ctl`;
}
