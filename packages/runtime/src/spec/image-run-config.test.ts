import { describe, expect, it } from "vitest";
import { RuntimeError } from "../errors.ts";
import type { ContainerConfig } from "../image/oci-schemas.ts";
import { applyImageConfig } from "./image-run-config.ts";
import { parseRunOptions } from "./run-options.ts";

/** `berth container run ARGV…` parsed, then merged with the image's config. */
function merged(config: ContainerConfig, ...argv: string[]) {
  const options = parseRunOptions(argv);
  return applyImageConfig(options, config, options.image ?? "");
}

const web: ContainerConfig = {
  Entrypoint: ["/docker-entrypoint.sh"],
  Cmd: ["nginx", "-g", "daemon off;"],
  Env: ["PATH=/usr/local/bin:/bin", "NGINX_VERSION=1.25", "MODE=prod"],
  WorkingDir: "/srv",
  User: "www-data:www-data",
  StopSignal: "SIGQUIT",
};

describe("applyImageConfig: Docker's rules for an image's run config", () => {
  it("runs Entrypoint + Cmd with the image's Env, WorkingDir, User and StopSignal when nothing is given", () => {
    const o = merged(web, "web");
    expect(o.command).toEqual(["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]);
    expect(o.env).toEqual(["PATH=/usr/local/bin:/bin", "NGINX_VERSION=1.25", "MODE=prod"]);
    expect(o.workdir).toBe("/srv");
    expect(o.user).toEqual({ user: { name: "www-data" }, group: { name: "www-data" } });
    expect(o.stopSignal).toBe(3);
    expect(o.image).toBe("web");
  });

  it("a command after the image replaces Cmd and keeps Entrypoint", () => {
    expect(merged(web, "web", "sh", "-c", "id").command).toEqual([
      "/docker-entrypoint.sh",
      "sh",
      "-c",
      "id",
    ]);
  });

  it("--entrypoint replaces Entrypoint and drops the image's Cmd; a command still follows it", () => {
    expect(merged(web, "--entrypoint", "/bin/sh", "web").command).toEqual(["/bin/sh"]);
    expect(merged(web, "--entrypoint", "/bin/sh", "web", "-c", "true").command).toEqual([
      "/bin/sh",
      "-c",
      "true",
    ]);
    // `--entrypoint ""` clears it: the command alone runs.
    expect(merged(web, "--entrypoint=", "web", "ls", "/").command).toEqual(["ls", "/"]);
  });

  it("-e and --env-file values override the image's by name, keeping the image's order", () => {
    const o = parseRunOptions(["--env-file", "/f", "-e", "MODE=dev", "-e", "EXTRA=1", "web"], {
      readFile: () => Buffer.from("NGINX_VERSION=1.27\n"),
    });
    expect(applyImageConfig(o, web, "web").env).toEqual([
      "PATH=/usr/local/bin:/bin",
      "NGINX_VERSION=1.27",
      "MODE=dev",
      "EXTRA=1",
    ]);
  });

  it("-w, -u and --stop-signal win over WorkingDir, User and StopSignal", () => {
    const o = merged(web, "-w", "/tmp", "-u", "0:0", "--stop-signal", "SIGTERM", "web");
    expect(o.workdir).toBe("/tmp");
    expect(o.user).toEqual({ user: { id: 0 }, group: { id: 0 } });
    expect(o.stopSignal).toBe(15);
  });

  it("takes a relative WorkingDir as relative to /, and leaves unset what the image does not set", () => {
    expect(merged({ Cmd: ["true"], WorkingDir: "app" }, "img").workdir).toBe("/app");
    const bare = merged({ Cmd: ["true"], WorkingDir: "", User: "" }, "img");
    expect(bare.workdir).toBeUndefined();
    expect(bare.user).toBeUndefined();
    expect(bare.stopSignal).toBeUndefined();
    expect(bare.env).toEqual([]);
  });

  it("refuses an image with nothing to run, and names the image for its own bad values", () => {
    const fails = (config: ContainerConfig, ...argv: string[]) => {
      try {
        merged(config, ...argv);
      } catch (e) {
        expect(e).toBeInstanceOf(RuntimeError);
        expect((e as RuntimeError).code).toBe("INVALID_ARGUMENT");
        return (e as Error).message;
      }
      throw new Error("expected a failure");
    };
    expect(fails({ Env: ["A=1"] }, "empty")).toBe(
      "no command to run: image empty has no Entrypoint or Cmd; give one after the image name",
    );
    expect(fails({ Cmd: ["true"] }, "--entrypoint=", "img")).toMatch(/^no command to run/);
    expect(fails({ Cmd: ["true"], StopSignal: "SIGNOPE" }, "img")).toMatch(
      /^image img has an invalid StopSignal: /,
    );
    expect(fails({ Cmd: ["true"], User: "a:b:c" }, "img")).toMatch(
      /^image img has an invalid User: /,
    );
    // A flag the user gave replaces the image's bad value, so it is never read.
    expect(
      merged({ Cmd: ["true"], StopSignal: "SIGNOPE" }, "--stop-signal", "9", "img").stopSignal,
    ).toBe(9);
  });

  it("does not change the options it is given", () => {
    const options = parseRunOptions(["-e", "A=flag", "img"]);
    const before = structuredClone(options);
    applyImageConfig(options, { Cmd: ["true"], Env: ["A=image", "B=image"] }, "img");
    expect(options).toEqual(before);
  });
});
