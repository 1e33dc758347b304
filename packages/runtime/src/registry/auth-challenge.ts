/** One `WWW-Authenticate` challenge: a lower-cased scheme and its auth-params. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated `key=value` or `key="quoted, \"escaped\""` params, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: string) => {
    while (i < n && chars.includes(header[i] as string)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && !/[\s,="]/.test(header[i] as string)) i++;
    return header.slice(start, i);
  };
  const quoted = (): string => {
    i++; // opening quote
    let out = "";
    while (i < n && header[i] !== '"') {
      if (header[i] === "\\" && i + 1 < n) i++;
      out += header[i];
      i++;
    }
    i++; // closing quote
    return out;
  };

  while (i < n) {
    skip(" \t,");
    const scheme = token();
    if (scheme === "") {
      i++;
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skip(" \t");
      const mark = i;
      const key = token();
      skip(" \t");
      if (key === "" || header[i] !== "=") {
        // Not a param: the start of the next challenge.
        i = mark;
        break;
      }
      i++; // '='
      skip(" \t");
      const value = header[i] === '"' ? quoted() : token();
      challenge.params[key.toLowerCase()] = value;
      skip(" \t");
      if (header[i] === ",") {
        i++;
        // A following `word=` continues this challenge; `word word=` or `word,` starts a new one.
        const save = i;
        skip(" \t");
        token();
        skip(" \t");
        const continues = header[i] === "=";
        i = save;
        if (!continues) break;
      } else {
        break;
      }
    }
  }
  return challenges;
}
