import type { RunInput } from "../engine/run-input.ts";
import type { RunOptions } from "../spec/run-options.ts";

/**
 * The engine takes the parsed command-line options (src/spec) as they are. Only `rm` is the
 * daemon's to decide: an attached run removes its container itself, once the output is drained.
 */
export function engineRunOptions(o: RunOptions, autoRemove: boolean): RunInput {
  return { ...o, rm: autoRemove };
}
