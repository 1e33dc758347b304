import { describe, expect, it } from "vitest";
import { applyConfigChange } from "./config-change.ts";

describe("applyConfigChange", () => {
  it("reads CMD and ENTRYPOINT in JSON and shell form", () => {
    expect(applyConfigChange({}, 'CMD ["cat", "/x"]').Cmd).toEqual(["cat", "/x"]);
    expect(applyConfigChange({}, "cmd echo $HOME").Cmd).toEqual(["/bin/sh", "-c", "echo $HOME"]);
    expect(applyConfigChange({}, "ENTRYPOINT [not json").Entrypoint).toEqual([
      "/bin/sh",
      "-c",
      "[not json",
    ]);
  });
  it("merges ENV and LABEL pairs, with quotes and the legacy form", () => {
    const c = applyConfigChange({ Env: ["A=1", "B=2"] }, "ENV B=3 C=\"two words\" D='x y'");
    expect(c.Env).toEqual(["A=1", "B=3", "C=two words", "D=x y"]);
    expect(applyConfigChange({}, "ENV KEY some value").Env).toEqual(["KEY=some value"]);
    expect(applyConfigChange({ Labels: { a: "1" } }, "LABEL b=2").Labels).toEqual({
      a: "1",
      b: "2",
    });
  });
  it("sets ports, volumes, workdir, user and stop signal", () => {
    const c = [
      "EXPOSE 8080 53/udp",
      'VOLUME ["/data"]',
      "WORKDIR /srv",
      "USER app",
      "STOPSIGNAL SIGINT",
    ].reduce(applyConfigChange, {});
    expect(c).toEqual({
      ExposedPorts: { "8080/tcp": {}, "53/udp": {} },
      Volumes: { "/data": {} },
      WorkingDir: "/srv",
      User: "app",
      StopSignal: "SIGINT",
    });
  });
  it("refuses what it does not understand, naming the line", () => {
    expect(() => applyConfigChange({}, "RUN rm -rf /")).toThrow(
      'invalid --change "RUN rm -rf /": RUN is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR',
    );
    expect(() => applyConfigChange({}, "EXPOSE http")).toThrow(/http is not a port/);
    expect(() => applyConfigChange({}, "VOLUME data")).toThrow(/not an absolute path/);
    expect(() => applyConfigChange({}, "CMD")).toThrow(/CMD needs an argument/);
    expect(() => applyConfigChange({}, "ENV ONLYKEY")).toThrow(/expected KEY=VALUE/);
  });
});
