import { type Dockerfile, DockerfileSyntaxError, type Instruction } from "./dockerfile-ast.ts";
import { parseInstruction } from "./parse-instruction.ts";

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);

/**
 * Reads a Dockerfile the way BuildKit's parser does: parser directives at the very top (until the
 * first line that is not one), `#` comments (also between continuation lines, which they do not
 * end), lines continued with the escape character (`\` or `` ` ``), empty continuation lines
 * (with a warning), and each instruction's own argument rules. Heredocs are not read yet.
 */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const directives: Record<string, string> = {};
  let escapeChar: "\\" | "`" = "\\";
  let lookingForDirectives = true;
  const warnings: string[] = [];
  const instructions: Instruction[] = [];
  const isComment = (l: string) => /^\s*#/.test(l);
  const continues = (l: string) => new RegExp(`\\${escapeChar}[ \\t]*$`).test(l);
  const stripContinuation = (l: string) => l.replace(new RegExp(`\\${escapeChar}[ \\t]*$`), "");

  let i = 0;
  while (i < lines.length) {
    const raw = lines[i] as string;
    const lineNo = i + 1;
    i++;
    if (lookingForDirectives) {
      const m = DIRECTIVE.exec(raw.trimStart());
      const key = m?.[1]?.toLowerCase();
      if (m && key && KNOWN_DIRECTIVES.has(key)) {
        if (key in directives)
          throw new DockerfileSyntaxError(lineNo, `only one ${key} parser directive can be used`);
        const value = m[2] as string;
        if (key === "escape") {
          if (value !== "\\" && value !== "`") {
            throw new DockerfileSyntaxError(
              lineNo,
              `invalid escape token '${value}' does not match \` or \\`,
            );
          }
          escapeChar = value;
        }
        directives[key] = value;
        continue;
      }
      lookingForDirectives = false;
    }
    if (isComment(raw)) continue;
    const first = raw.trimStart();
    if (first.trim() === "") continue;
    let line = first;
    let endLine = lineNo;
    let emptyContinuation = false;
    if (continues(line)) {
      line = stripContinuation(line);
      let open = true;
      while (open && i < lines.length) {
        const next = lines[i] as string;
        endLine = i + 1;
        i++;
        if (isComment(next)) continue;
        if (next.trim() === "") {
          emptyContinuation = true;
          continue;
        }
        open = continues(next);
        line += open ? stripContinuation(next) : next;
      }
      if (open && line.trim() === "") continue;
    }
    if (line.trim() === "") continue;
    if (emptyContinuation) {
      warnings.push(
        `line ${lineNo}: empty continuation line (these will become errors): ${line.trim()}`,
      );
    }
    instructions.push(parseInstruction(line, escapeChar, lineNo, endLine));
  }
  if (instructions.length === 0)
    throw new DockerfileSyntaxError(lines.length, "file with no instructions");
  return { instructions, directives, escape: escapeChar, warnings };
}
