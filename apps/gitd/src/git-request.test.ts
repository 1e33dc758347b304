import { describe, expect, it } from "vitest";
import { parseGitRequest } from "./git-request.ts";
import { splitShellWords } from "./shell-words.ts";

describe("splitShellWords", () => {
  it("splits on blanks and honours quotes and escapes without expanding anything", () => {
    expect(splitShellWords(`config:set app 'A=b c' "D=\\"e\\"" F=\\$HOME $(id) ''`)).toEqual([
      "config:set",
      "app",
      "A=b c",
      'D="e"',
      "F=$HOME",
      "$(id)",
      "",
    ]);
  });
  it("refuses an unterminated quote", () => {
    expect(() => splitShellWords("apps:create 'oops")).toThrow(/unterminated ' quote/);
  });
});

describe("parseGitRequest", () => {
  it("recognises what git clients send", () => {
    expect(parseGitRequest("git-receive-pack '/myapp.git'")).toEqual({
      service: "git-receive-pack",
      app: "myapp",
    });
    expect(parseGitRequest("git-upload-pack 'myapp'")).toEqual({
      service: "git-upload-pack",
      app: "myapp",
    });
    expect(parseGitRequest("git receive-pack '~/my-app.git/'")).toEqual({
      service: "git-receive-pack",
      app: "my-app",
    });
  });
  it("returns null for other commands", () => {
    expect(parseGitRequest("apps:create web")).toBeNull();
    expect(parseGitRequest("git-annex-shell x")).toBeNull();
  });
  it("refuses paths that are not exactly one app", () => {
    for (const bad of ["'../x.git'", "'/a/b.git'", "'/A.git'", "'/9app.git'", "''", "a b"]) {
      expect(() => parseGitRequest(`git-receive-pack ${bad}`)).toThrow(
        /not an app repository|one repository path/,
      );
    }
  });
});
