/**
 * Human-readable progress on stderr (so stdout stays parseable): a step line when long work
 * starts, and how long it took when it ends.
 */
export interface Reporter {
  /** Announces a step and returns a function that marks it done. */
  step(title: string): (result?: string) => void;
  info(line: string): void;
  /** Machine-friendly result lines go to stdout. */
  print(line: string): void;
}

export function terminalReporter(
  stderr: NodeJS.WritableStream = process.stderr,
  stdout: NodeJS.WritableStream = process.stdout,
): Reporter {
  return {
    step(title) {
      const started = performance.now();
      stderr.write(`-----> ${title}\n`);
      return (result) => {
        const ms = Math.round(performance.now() - started);
        stderr.write(`       ${result ?? "done"} (${ms} ms)\n`);
      };
    },
    info(line) {
      stderr.write(`       ${line}\n`);
    },
    print(line) {
      stdout.write(`${line}\n`);
    },
  };
}
