import { runMigrations } from "@berth/db/migrate";
import { ensureBaseImages } from "@berth/runtime/base-images";
import { startDaemon } from "@berth/runtime/daemon";
import type { Command } from "../command.ts";
import type { CliEnv } from "../env.ts";
import { printStatus, readStatus } from "../operator/berth-status.ts";
import { databaseUrl, managedPostgres, redactUrl } from "../operator/database-service.ts";
import { engineDaemonSettings } from "../operator/engine-daemon.ts";
import { withOperatorHint } from "../operator/operator-hints.ts";
import type { Reporter } from "../reporter.ts";

/** `berth up`: starts everything Berth runs on this host; harmless when it already runs. */
export const upCommand: Command = {
  summary: "start Berth on this host (managed Postgres, migrations, engine daemon); idempotent",
  usage: "berth up",
  async run({ env, out }) {
    try {
      return await bringUp(env, out);
    } catch (error) {
      throw withOperatorHint(error);
    }
  },
};

async function bringUp(env: CliEnv, out: Reporter): Promise<number> {
  const postgres = managedPostgres(env);
  if (postgres) {
    let done = out.step(`Preparing Postgres data directory ${postgres.options.dataDir}`);
    const init = await postgres.init();
    done(init.created ? `initialised (Postgres ${init.major})` : "already initialised");
    done = out.step(
      `Starting Postgres on ${postgres.options.socketDir} and 127.0.0.1:${postgres.options.port}`,
    );
    const started = await postgres.start();
    done(
      started.alreadyRunning
        ? `already running (pid ${started.pid})`
        : `started (pid ${started.pid})`,
    );
  } else {
    out.info(
      `Using the Postgres at DATABASE_URL (${redactUrl(databaseUrl(env, undefined))}); starting none`,
    );
  }
  let done = out.step("Applying database migrations");
  await runMigrations(databaseUrl(env, postgres));
  done("up to date");
  const engine = engineDaemonSettings(env);
  done = out.step(`Starting the engine daemon on ${engine.runRoot}/engine.sock`);
  const daemon = await startDaemon(engine);
  done(
    daemon.alreadyRunning ? `already running (pid ${daemon.pid})` : `started (pid ${daemon.pid})`,
  );
  for (const name of env.BERTH_BASE_IMAGES) {
    done = out.step(`Base image ${name}`);
    const [result] = await ensureBaseImages(engine, [name], (line) => out.info(`  ${line}`));
    done(result?.present ? "present" : `bootstrapped as ${result?.ref}`);
  }
  printStatus(await readStatus(env), out);
  return 0;
}
