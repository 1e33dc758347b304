import { DockerfileSyntaxError, type Instruction } from "./dockerfile-ast.ts";

type Escape = "\\" | "`";
type Split = (
  rest: string,
  escapeChar: Escape,
  line: number,
) => { args: string[]; json: boolean; sub?: Instruction };

const WHITESPACE = /[\t\v\f\r ]+/;

/**
 * Words of ENV/LABEL/ARG: blank-separated, quotes kept in the word (they are removed when values
 * are expanded), the escape character kept with the character it escapes.
 */
export function splitWords(rest: string, escapeChar: Escape): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quoted = false; // a word with quotes counts even when empty ("")
  let quote: string | null = null;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i] as string;
    if (quote) {
      if (ch === escapeChar && quote !== "'") {
        if (i + 1 === rest.length) {
          quote = null;
          continue;
        }
        word += ch + (rest[++i] as string);
        continue;
      }
      word += ch;
      if (ch === quote) quote = null;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord && (quoted || word !== "")) words.push(word);
      word = "";
      inWord = false;
      quoted = false;
      continue;
    }
    inWord = true;
    if (ch === "'" || ch === '"') {
      quote = ch;
      quoted = true;
      word += ch;
      continue;
    }
    if (ch === escapeChar) {
      if (i + 1 === rest.length) continue;
      word += ch + (rest[++i] as string);
      continue;
    }
    word += ch;
  }
  if (inWord && (quoted || word !== "")) words.push(word);
  return words;
}

/** A JSON array of strings, or null when the text is not a JSON array at all. */
function jsonArray(rest: string, line: number): string[] | null {
  const text = rest.trimStart();
  if (!text.startsWith("[")) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null; // not JSON: the shell form, as BuildKit falls back
  }
  if (!Array.isArray(parsed)) return null;
  if (!parsed.every((p) => typeof p === "string")) {
    throw new DockerfileSyntaxError(
      line,
      "when using JSON array syntax, arrays must be comprised of strings only",
    );
  }
  return parsed as string[];
}

const maybeJson: Split = (rest, _e, line) => {
  if (rest === "") return { args: [], json: false };
  const arr = jsonArray(rest, line);
  return arr ? { args: arr, json: true } : { args: [rest], json: false };
};

const maybeJsonToList: Split = (rest, e, line) => {
  const arr = jsonArray(rest, line);
  return arr ? { args: arr, json: true } : whitespaceList(rest, e, line);
};

const whitespaceList: Split = (rest) => ({
  args: rest === "" ? [] : rest.split(WHITESPACE),
  json: false,
});

const oneString: Split = (rest) => ({ args: rest === "" ? [] : [rest], json: false });

const nameOrNameValue: Split = (rest, e) => ({ args: splitWords(rest, e), json: false });

function nameValue(what: string): Split {
  return (rest, e, line) => {
    const words = splitWords(rest, e);
    if (words.length === 0) return { args: [], json: false };
    if (!(words[0] as string).includes("=")) {
      // The legacy `ENV name value…` form: everything after the name is the value.
      const [key, value] = rest.split(/[\t\v\f\r ]+(.*)/s) as [string, string?];
      if (value === undefined || value === "")
        throw new DockerfileSyntaxError(line, `${what} must have two arguments`);
      return { args: [key, value, ""], json: false };
    }
    const args: string[] = [];
    for (const w of words) {
      const eq = w.indexOf("=");
      if (eq < 0) {
        throw new DockerfileSyntaxError(
          line,
          `can't find = in ${JSON.stringify(w)}; must be of the form: name=value`,
        );
      }
      args.push(w.slice(0, eq), w.slice(eq + 1), "=");
    }
    return { args, json: false };
  };
}

const healthcheck: Split = (rest, e, line) => {
  const m = /^(\S+)\s*(.*)$/s.exec(rest);
  if (!m) return { args: [], json: false };
  const inner = maybeJson(m[2] as string, e, line);
  return { args: [m[1] as string, ...inner.args], json: inner.json };
};

const onbuild: Split = (rest, e, line) => {
  if (rest === "") return { args: [], json: false };
  return { args: [], json: false, sub: parseInstruction(rest, e, line, line) };
};

/** How each instruction's arguments are split (BuildKit's per-instruction rules). */
const SPLITTERS: Record<string, Split> = {
  add: maybeJsonToList,
  arg: nameOrNameValue,
  cmd: maybeJson,
  copy: maybeJsonToList,
  entrypoint: maybeJson,
  env: nameValue("ENV"),
  expose: whitespaceList,
  from: whitespaceList,
  healthcheck,
  label: nameValue("LABEL"),
  maintainer: oneString,
  onbuild,
  run: maybeJson,
  shell: maybeJson,
  stopsignal: oneString,
  user: oneString,
  volume: maybeJsonToList,
  workdir: oneString,
};

export const INSTRUCTIONS = Object.keys(SPLITTERS);

/** Leading `--name[=value]` words (quotes allowed in values); the rest of the line untouched. */
function extractFlags(args: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let rest = args;
  for (;;) {
    const m = /^--[^\s=]+(=("[^"]*"|'[^']*'|[^\s"'])*)?(\s+|$)/.exec(rest);
    if (!m || m[0].trim() === "--") break;
    flags.push(m[0].trim());
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** One logical line (continuations already joined) as an instruction. */
export function parseInstruction(
  line: string,
  escapeChar: Escape,
  startLine: number,
  endLine: number,
): Instruction {
  const trimmed = line.trim();
  const [word, after = ""] = trimmed.split(/[\t\v\f\r ]+(.*)/s) as [string, string?];
  const name = word.toLowerCase();
  const split = SPLITTERS[name];
  if (!split)
    throw new DockerfileSyntaxError(startLine, `unknown instruction: ${word.toUpperCase()}`);
  const { flags, rest } = after === "" ? { flags: [], rest: "" } : extractFlags(after);
  const { args, json, sub } = split(rest, escapeChar, startLine);
  return { name, flags, args, json, ...(sub ? { sub } : {}), startLine, endLine, original: line };
}
