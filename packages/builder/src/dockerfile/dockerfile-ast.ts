/** One instruction of a Dockerfile, as the parser reads it (before any variable expansion). */
export interface Instruction {
  /** Lower-case instruction name: `from`, `run`, `copy`, … */
  name: string;
  /** Leading `--flag[=value]` words, as written (`--from=build`). */
  flags: string[];
  /** The arguments, split the way this instruction splits them (see parse-instruction.ts). */
  args: string[];
  /** True for the JSON (exec) form of RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME, HEALTHCHECK. */
  json: boolean;
  /** ONBUILD's wrapped instruction. */
  sub?: Instruction;
  /** 1-based lines the instruction spans in the file (continuations included). */
  startLine: number;
  endLine: number;
  /** The logical line as read (continuations joined). */
  original: string;
}

export interface Dockerfile {
  instructions: Instruction[];
  /** Parser directives found at the top (`syntax`, `escape`, `check`), lower-case keys. */
  directives: Record<string, string>;
  escape: "\\" | "`";
  warnings: string[];
}

/** A Dockerfile that cannot be read, with the line it is about. */
export class DockerfileSyntaxError extends Error {
  override readonly name = "DockerfileSyntaxError";
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`Dockerfile line ${line}: ${reason}`);
  }
}

/** Go's %q of a string, which BuildKit's dump uses: JSON's escaping is the same for what matters. */
function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * The parse tree in the dump format of BuildKit's parser tests — one line per instruction,
 * `(name ["--flag"…] "arg" "arg"…)`, ONBUILD's instruction nested — so the two can be compared
 * line by line.
 */
export function dumpDockerfile(file: Dockerfile): string {
  const one = (i: Instruction): string => {
    let s = i.name;
    if (i.flags.length > 0) s += ` [${i.flags.map(quote).join(" ")}]`;
    if (i.sub) s += ` (${one(i.sub)})`;
    for (const a of i.args) s += ` ${quote(a)}`;
    return s;
  };
  return file.instructions.map((i) => `(${one(i)})`).join("\n");
}
