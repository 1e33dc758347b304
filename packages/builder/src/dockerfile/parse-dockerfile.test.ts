import { describe, expect, it } from "vitest";
import { DockerfileSyntaxError, dumpDockerfile } from "./dockerfile-ast.ts";
import { parseDockerfile } from "./parse-dockerfile.ts";

const dump = (text: string) => dumpDockerfile(parseDockerfile(text));

describe("parseDockerfile: BuildKit's dump format", () => {
  it.each([
    ["FROM ubuntu:22.04 AS build", '(from "ubuntu:22.04" "AS" "build")'],
    ["from  scratch", '(from "scratch")'],
    ["RUN echo hi && ls", '(run "echo hi && ls")'],
    ['RUN ["echo", "hi"]', '(run "echo" "hi")'],
    ["CMD [not json", '(cmd "[not json")'],
    ['ENTRYPOINT ["/bin/app"]', '(entrypoint "/bin/app")'],
    ['SHELL ["/bin/bash", "-c"]', '(shell "/bin/bash" "-c")'],
    [
      "COPY --from=build --chown=1:1 a b /dst/",
      '(copy ["--from=build" "--chown=1:1"] "a" "b" "/dst/")',
    ],
    ['COPY ["a b", "/dst"]', '(copy "a b" "/dst")'],
    ["ADD https://example.test/x.tgz /opt/", '(add "https://example.test/x.tgz" "/opt/")'],
    ['ENV A=1 B="two words"', '(env "A" "1" "=" "B" "\\"two words\\"" "=")'],
    ["ENV PATH /usr/local/bin:$PATH", '(env "PATH" "/usr/local/bin:$PATH" "")'],
    ["LABEL org.example.a=b c=\\ d", '(label "org.example.a" "b" "=" "c" "\\\\ d" "=")'],
    ["ARG VERSION=1.0 OTHER", '(arg "VERSION=1.0" "OTHER")'],
    ["EXPOSE 80 443/tcp", '(expose "80" "443/tcp")'],
    ['VOLUME ["/data", "/logs"]', '(volume "/data" "/logs")'],
    ["VOLUME /data /logs", '(volume "/data" "/logs")'],
    ["WORKDIR /srv/my app", '(workdir "/srv/my app")'],
    ["USER app:staff", '(user "app:staff")'],
    ["STOPSIGNAL SIGINT", '(stopsignal "SIGINT")'],
    ["MAINTAINER Jane Doe <jane@example.test>", '(maintainer "Jane Doe <jane@example.test>")'],
    ["ONBUILD RUN make install", '(onbuild (run "make install"))'],
    [
      "HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/",
      '(healthcheck ["--interval=5s" "--retries=3"] "CMD" "curl -f http://localhost/")',
    ],
    ['HEALTHCHECK CMD ["check", "-q"]', '(healthcheck "CMD" "check" "-q")'],
    ["HEALTHCHECK NONE", '(healthcheck "NONE")'],
    [
      "RUN --mount=type=cache,target=/root/.npm npm ci",
      '(run ["--mount=type=cache,target=/root/.npm"] "npm ci")',
    ],
  ])("%s", (line, expected) => {
    expect(dump(`${line}\n`)).toBe(expected);
  });

  it("joins continuation lines, keeping their indentation and dropping comments between them", () => {
    const text = [
      "FROM x",
      "RUN apt-get update \\",
      "    # a comment",
      "    && apt-get install -y curl",
      "",
    ].join("\n");
    expect(dump(text)).toBe('(from "x")\n(run "apt-get update     && apt-get install -y curl")');
    const parsed = parseDockerfile(text);
    expect(parsed.instructions[1]).toMatchObject({ startLine: 2, endLine: 4 });
  });

  it("reads parser directives only at the top, with the escape directive changing continuation", () => {
    const text = [
      "# syntax=docker/dockerfile:1",
      "# escape=`",
      "",
      "FROM x",
      "RUN dir c:\\ `",
      "  && echo hi",
    ].join("\n");
    const parsed = parseDockerfile(text);
    expect(parsed.directives).toEqual({ syntax: "docker/dockerfile:1", escape: "`" });
    expect(dumpDockerfile(parsed)).toBe('(from "x")\n(run "dir c:\\\\   && echo hi")');
    // After an instruction, a directive is only a comment.
    expect(parseDockerfile("FROM x\n# escape=`\nRUN a \\\n b").escape).toBe("\\");
  });

  it("warns about empty continuation lines", () => {
    const parsed = parseDockerfile("FROM x\nRUN a \\\n\n  b\n");
    expect(dumpDockerfile(parsed)).toBe('(from "x")\n(run "a   b")');
    expect(parsed.warnings[0]).toMatch(/empty continuation line/);
  });

  it("names the line of every syntax error", () => {
    const fail = (text: string) => {
      try {
        parseDockerfile(text);
      } catch (e) {
        expect(e).toBeInstanceOf(DockerfileSyntaxError);
        return (e as Error).message;
      }
      throw new Error("expected a syntax error");
    };
    expect(fail("FROM x\n\nFOO bar\n")).toBe("Dockerfile line 3: unknown instruction: FOO");
    expect(fail("# escape=`\n# escape=\\\nFROM x")).toBe(
      "Dockerfile line 2: only one escape parser directive can be used",
    );
    expect(fail("# escape=x\nFROM x")).toMatch(/^Dockerfile line 1: invalid escape token 'x'/);
    expect(fail('FROM x\nCMD ["a", 1]')).toBe(
      "Dockerfile line 2: when using JSON array syntax, arrays must be comprised of strings only",
    );
    expect(fail("FROM x\nENV ONLYKEY")).toBe("Dockerfile line 2: ENV must have two arguments");
    expect(fail("FROM x\nLABEL a=b c")).toMatch(/^Dockerfile line 2: can't find = in "c"/);
    expect(fail("# just a comment\n\n")).toMatch(/file with no instructions/);
  });
});
