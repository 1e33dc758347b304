/** What went wrong for an SSH client, said so that the person at the terminal can act on it. */
export type GitdErrorCode =
  | "INVALID_REPOSITORY"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "INVALID_COMMAND"
  | "HOST_KEY";

export class GitdError extends Error {
  constructor(
    readonly code: GitdErrorCode,
    message: string,
    readonly context: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GitdError";
  }
}
