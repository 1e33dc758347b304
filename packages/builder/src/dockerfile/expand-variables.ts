import { DockerfileSyntaxError } from "./dockerfile-ast.ts";

type Env = Readonly<Record<string, string>>;

/**
 * Variable expansion as Dockerfile instructions do it (BuildKit's shell lexer): `$VAR`, `${VAR}`,
 * `${VAR:-word}`/`${VAR-word}` (default), `${VAR:+word}`/`${VAR+word}` (alternative),
 * `${VAR:?message}`/`${VAR?message}` (required); single quotes keep text literal, double quotes
 * expand inside; the escape character makes the next character literal; quotes are removed.
 * Returns the words (split on unquoted blanks); `expandWord` joins them back for one-value uses.
 */
export function expandWords(text: string, env: Env, escapeChar = "\\", line = 0): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const fail = (why: string) => new DockerfileSyntaxError(line, why);

  const readName = (): string => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) return "";
    i += m[0].length;
    return m[0];
  };

  const expandDollar = (): string => {
    // text[i] is just past the `$`.
    if (text[i] === "{") {
      i++;
      const name = readName();
      if (name === "")
        throw fail(
          `bad substitution: \${ must be followed by a variable name in ${JSON.stringify(text)}`,
        );
      if (i >= text.length) throw fail(`missing '}' in substitution of ${name}`);
      if (text[i] === "}") {
        i++;
        return env[name] ?? "";
      }
      const colon = text[i] === ":";
      if (colon) i++;
      const op = text[i];
      if (op !== "-" && op !== "+" && op !== "?") {
        throw fail(`unsupported modifier (${op ?? "end of text"}) in substitution of ${name}`);
      }
      i++;
      let arg = "";
      let depth = 0;
      for (; i < text.length; i++) {
        const ch = text[i] as string;
        if (ch === escapeChar && i + 1 < text.length) {
          arg += text[++i];
          continue;
        }
        if (ch === "$" && text[i + 1] === "{") depth++;
        if (ch === "}") {
          if (depth === 0) break;
          depth--;
        }
        arg += ch;
      }
      if (text[i] !== "}") throw fail(`missing '}' in substitution of ${name}`);
      i++;
      const value = env[name];
      const set = colon ? value !== undefined && value !== "" : value !== undefined;
      const inner = () => expandWords(arg, env, escapeChar, line).join(" ");
      if (op === "-") return set ? (value as string) : inner();
      if (op === "+") return set ? inner() : "";
      if (!set) throw fail(`${name}: ${inner() || "is not set"}`);
      return value as string;
    }
    const name = readName();
    if (name === "") return "$"; // a lone $ stays
    return env[name] ?? "";
  };

  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === escapeChar) {
      i++;
      if (i < text.length) word += text[i++];
      inWord = true;
      continue;
    }
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0)
        throw fail(
          `unexpected end of text while looking for matching ' in ${JSON.stringify(text)}`,
        );
      word += text.slice(i + 1, end);
      i = end + 1;
      inWord = true;
      continue;
    }
    if (ch === '"') {
      i++;
      inWord = true;
      let closed = false;
      while (i < text.length) {
        const c = text[i] as string;
        if (c === '"') {
          i++;
          closed = true;
          break;
        }
        if (
          c === escapeChar &&
          i + 1 < text.length &&
          ['"', "$", escapeChar].includes(text[i + 1] as string)
        ) {
          word += text[i + 1];
          i += 2;
          continue;
        }
        if (c === "$") {
          i++;
          word += expandDollar();
          continue;
        }
        word += c;
        i++;
      }
      if (!closed)
        throw fail(
          `unexpected end of text while looking for matching " in ${JSON.stringify(text)}`,
        );
      continue;
    }
    if (ch === "$") {
      i++;
      // Unquoted, an expansion is split on blanks like a shell's (EXPOSE $PORTS → several words).
      const parts = expandDollar().split(/\s+/);
      word += parts[0] ?? "";
      inWord = inWord || word !== "";
      for (const part of parts.slice(1)) {
        if (inWord) words.push(word);
        word = part;
        inWord = part !== "";
      }
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    word += ch;
    inWord = true;
    i++;
  }
  if (inWord) words.push(word);
  return words;
}

/** One value (WORKDIR, USER, a COPY path, an ENV value): the words joined by single spaces. */
export function expandWord(text: string, env: Env, escapeChar = "\\", line = 0): string {
  return expandWords(text, env, escapeChar, line).join(" ");
}
