import fs from "node:fs";
import { parseDockerfile } from "@berth/builder/dockerfile";
import { DockerfileSyntaxError, dumpDockerfile } from "@berth/builder/dockerfile-ast";
import { CliUsageError } from "../cli-error.ts";
import type { Command } from "../command.ts";

/** `berth dockerfile parse FILE`: the parse tree in BuildKit's dump format, for comparison. */
export const dockerfileCommand: Command = {
  summary: "print a Dockerfile's parse tree in BuildKit's dump format",
  usage: "berth dockerfile parse FILE",
  async run({ args, out }) {
    const [verb, file, ...extra] = args;
    if (verb !== "parse" || !file || extra.length > 0)
      throw new CliUsageError(`usage: ${this.usage}`);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new CliUsageError(
        `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    try {
      const parsed = parseDockerfile(text);
      for (const w of parsed.warnings) process.stderr.write(`warning: ${file} ${w}\n`);
      out.print(dumpDockerfile(parsed));
      return 0;
    } catch (e) {
      if (e instanceof DockerfileSyntaxError) {
        process.stderr.write(`berth: ${file}: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
