/** A build that cannot go on, with the Dockerfile line it stopped at (0 when none applies). */
export class BuildError extends Error {
  override readonly name = "BuildError";
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `Dockerfile line ${line}: ${message}` : message);
  }
}
