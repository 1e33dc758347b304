import { APP_NAME_PATTERN } from "@berth/db/patterns";
import { GitdError } from "./gitd-error.ts";
import { splitShellWords } from "./shell-words.ts";

export type GitService = "git-receive-pack" | "git-upload-pack";

export interface GitRequest {
  service: GitService;
  /** The app whose repository is meant: `myapp` for `/myapp.git`, `myapp.git` or `myapp`. */
  app: string;
}

const SERVICES: Record<string, GitService> = {
  "git-receive-pack": "git-receive-pack",
  "git-upload-pack": "git-upload-pack",
  // Older clients and some tools send the two-word form.
  "git receive-pack": "git-receive-pack",
  "git upload-pack": "git-upload-pack",
};

/**
 * Recognises the commands a git client sends over SSH (`git-receive-pack '/myapp.git'`). Returns
 * null for any other command (those go to the command table). A repository path that is not
 * exactly one app name — `..`, nested directories, absolute paths elsewhere — is refused here,
 * before anything touches the disk.
 */
export function parseGitRequest(command: string): GitRequest | null {
  const words = splitShellWords(command);
  let service: GitService | undefined;
  let rest: string[];
  if (words[0] === "git" && words.length >= 2) {
    service = SERVICES[`git ${words[1]}`];
    rest = words.slice(2);
  } else {
    service = SERVICES[words[0] ?? ""];
    rest = words.slice(1);
  }
  if (!service) return null;
  if (rest.length !== 1) {
    throw new GitdError(
      "INVALID_REPOSITORY",
      `${service} takes one repository path, such as 'myapp.git'`,
    );
  }
  return { service, app: appFromRepositoryPath(rest[0] as string) };
}

function appFromRepositoryPath(raw: string): string {
  // `ssh://git@host/myapp.git` sends `/myapp.git`; `git@host:myapp` sends `myapp`; ~ forms too.
  const name = raw
    .replace(/^~?\/+/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
  if (!APP_NAME_PATTERN.test(name)) {
    throw new GitdError(
      "INVALID_REPOSITORY",
      `'${raw}' is not an app repository: use <app>.git, where the app name is 2–30 lowercase letters, digits or hyphens, starting with a letter`,
      { path: raw },
    );
  }
  return name;
}
