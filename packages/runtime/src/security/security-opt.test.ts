import { describe, expect, it } from "vitest";
import { loadSeccompProfile, parseSecurityOpts } from "./security-opt.ts";

const files: Record<string, string> = {
  "/p/ok.json": JSON.stringify({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{ names: ["read", "write"], action: "SCMP_ACT_ALLOW" }],
  }),
  "/p/bad-action.json": JSON.stringify({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{ names: ["read"], action: "ALLOW" }],
  }),
  "/p/not-json.json": "{ nope",
};
const readFile = (path: string) => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error("missing"), { code: "ENOENT" });
  return text;
};

describe("parseSecurityOpts", () => {
  it("defaults to Docker's profile with no_new_privs", () => {
    expect(parseSecurityOpts([], readFile)).toEqual({
      seccomp: { mode: "default" },
      noNewPrivileges: true,
    });
  });

  it("reads seccomp=unconfined, seccomp=builtin, seccomp:PATH and no-new-privileges", () => {
    expect(parseSecurityOpts(["seccomp=unconfined"], readFile).seccomp).toEqual({
      mode: "unconfined",
    });
    expect(parseSecurityOpts(["seccomp=unconfined", "seccomp=builtin"], readFile).seccomp).toEqual({
      mode: "default",
    });
    const custom = parseSecurityOpts(["seccomp:/p/ok.json"], readFile).seccomp;
    expect(custom).toMatchObject({
      mode: "profile",
      path: "/p/ok.json",
      profile: { defaultAction: "SCMP_ACT_ERRNO" },
    });
    expect(parseSecurityOpts(["no-new-privileges=false"], readFile).noNewPrivileges).toBe(false);
    expect(parseSecurityOpts(["no-new-privileges:true"], readFile).noNewPrivileges).toBe(true);
    expect(parseSecurityOpts(["no-new-privileges"], readFile).noNewPrivileges).toBe(true);
  });

  it("rejects what it does not know, in one line", () => {
    expect(() => parseSecurityOpts(["apparmor=unconfined"], readFile)).toThrow(
      'invalid argument "apparmor=unconfined" for --security-opt: supported options are seccomp=… and no-new-privileges',
    );
    expect(() => parseSecurityOpts(["seccomp="], readFile)).toThrow(
      'invalid argument "seccomp=" for --security-opt: expected seccomp=unconfined, seccomp=builtin or seccomp=PROFILE.json',
    );
    expect(() => parseSecurityOpts(["no-new-privileges=yes"], readFile)).toThrow(
      'invalid argument "no-new-privileges=yes" for --security-opt: no-new-privileges takes true or false',
    );
  });
});

describe("loadSeccompProfile", () => {
  it("explains missing, malformed and invalid profiles in one line", () => {
    expect(() => loadSeccompProfile("/p/missing.json", readFile)).toThrow(
      "cannot read seccomp profile /p/missing.json: ENOENT",
    );
    expect(() => loadSeccompProfile("/p/not-json.json", readFile)).toThrow(
      /^seccomp profile \/p\/not-json.json is not valid JSON: /,
    );
    expect(() => loadSeccompProfile("/p/bad-action.json", readFile)).toThrow(
      /^invalid seccomp profile \/p\/bad-action.json: syscalls.0.action: /,
    );
  });
});
