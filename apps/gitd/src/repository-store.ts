import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { APP_NAME_PATTERN } from "@berth/db/patterns";
import { GitdError } from "./gitd-error.ts";

const run = promisify(execFile);
const HOOK_SCRIPT = fileURLToPath(new URL("./pre-receive-hook.mjs", import.meta.url));

/**
 * The apps' bare repositories, one per app under the git root (`<root>/<app>.git`). Names are
 * checked against the app-name pattern before any path is made, so no request reaches outside.
 */
export class RepositoryStore {
  constructor(readonly root: string) {}

  pathOf(app: string): string {
    if (!APP_NAME_PATTERN.test(app)) {
      throw new GitdError("INVALID_REPOSITORY", `'${app}' is not a valid app name`, { app });
    }
    return path.join(this.root, `${app}.git`);
  }

  exists(app: string): boolean {
    return fs.existsSync(path.join(this.pathOf(app), "HEAD"));
  }

  /**
   * Creates the app's bare repository if it is missing and (re)installs Berth's pre-receive hook,
   * which must point at this installation's Node and hook script.
   */
  async ensure(app: string): Promise<string> {
    const dir = this.pathOf(app);
    if (!this.exists(app)) {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
      // Made under a temporary name and renamed: a half-made repository is never seen by a push.
      const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
      await run("git", ["init", "--quiet", "--bare", "--initial-branch=main", tmp]);
      fs.renameSync(tmp, dir);
    }
    installHook(dir);
    return dir;
  }

  /** Deletes the app's repository (apps:destroy). */
  remove(app: string): void {
    fs.rmSync(this.pathOf(app), { recursive: true, force: true });
  }
}

function installHook(repo: string): void {
  const hook = path.join(repo, "hooks", "pre-receive");
  if (process.execPath.includes("'") || HOOK_SCRIPT.includes("'")) {
    // The wrapper quotes both paths with single quotes; such a path cannot be quoted that way.
    throw new GitdError(
      "INVALID_REPOSITORY",
      `cannot install the push hook: a quote in ${process.execPath} or ${HOOK_SCRIPT}`,
    );
  }
  const text = `#!/bin/sh\nexec '${process.execPath}' '${HOOK_SCRIPT}'\n`;
  if (fs.existsSync(hook) && fs.readFileSync(hook, "utf8") === text) return;
  fs.mkdirSync(path.dirname(hook), { recursive: true });
  const tmp = `${hook}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: 0o755 });
  fs.renameSync(tmp, hook);
}
