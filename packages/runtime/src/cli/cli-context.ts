import type { DaemonSettings } from "../daemon/daemon-control.ts";

/** What `berth container …` gets from the program that embeds it (apps/cli): no process.env here. */
export interface ContainerCliContext {
  daemon: DaemonSettings;
  /** For -i: forwarded to the container; put in raw mode for -t when it is a terminal. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { columns?: number; rows?: number };
  stderr: NodeJS.WritableStream;
  /** For bare `-e NAME` and env-file `NAME` lines. */
  hostEnv: Readonly<Record<string, string | undefined>>;
  /** Relative --rootfs, -v and --env-file paths resolve against this. */
  cwd: string;
  /** Whether `logs -f`, `stats` and foreground `run` may be interrupted by signals (real terminals). */
  handleSignals: boolean;
}

/**
 * A failure with the exit code Docker's CLI uses: 125 for mistakes in the command line and errors
 * of the engine itself, 126 when the container's command cannot be invoked, 127 when it is not found.
 */
export class ContainerCliError extends Error {
  override readonly name = "ContainerCliError";
  constructor(
    message: string,
    readonly exitCode = 125,
  ) {
    super(message);
  }
}

/** One verb of `berth container`. */
export interface ContainerVerb {
  summary: string;
  usage: string;
  run(args: string[], ctx: ContainerCliContext): Promise<number>;
}
