import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeError } from "../../errors.ts";
import { execPlugin, type PluginInvocation, parseResult } from "./plugin-exec.ts";

const ID = "abc123def4567890abc123def4567890";

const RESULT = {
  cniVersion: "1.0.0",
  interfaces: [{ name: "eth0", mac: "aa:23:a2:a4:d8:a0", sandbox: "/x" }],
  ips: [{ interface: 0, address: "10.213.0.2/24", gateway: "10.213.0.1" }],
};

/** Fake plugins: shell scripts that record what they were given and answer as told. */
const PLUGINS: Record<string, string> = {
  "records-and-succeeds": `env | grep ^CNI_ | sort > "$0.env"; cat > "$0.stdin"; echo '${JSON.stringify(RESULT)}'`,
  "fails-with-cni-error": `cat >/dev/null; echo '{"cniVersion":"1.0.0","code":11,"msg":"try again later","details":"lock busy"}'; exit 1`,
  "fails-with-stderr": `echo "panic: something broke" >&2; exit 2`,
  "prints-garbage": `echo 'not json'`,
  "prints-bad-result": `echo '{"cniVersion":"1.0.0","ips":[{"address":"10.213.0.2"}]}'`,
  "prints-nothing": `exit 0`,
  sleeps: `sleep 5`,
};

describe("execPlugin (fake plugin executables)", () => {
  let dir: string;
  const options = () => ({ pluginDir: dir, timeoutMs: 300 });
  const inv = (type: string, over: Partial<PluginInvocation> = {}): PluginInvocation => ({
    type,
    command: "ADD",
    containerId: ID,
    netns: "/run/berth/netns/x",
    ifname: "eth0",
    config: { cniVersion: "1.0.0", name: "berth0", type },
    ...over,
  });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-cni-"));
    for (const [name, body] of Object.entries(PLUGINS)) {
      fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("passes parameters in CNI_* variables and the config on stdin, per the spec", async () => {
    const out = await execPlugin(
      options(),
      inv("records-and-succeeds", { args: { IgnoreUnknown: "1", K8S_POD: "p" } }),
    );
    expect(out).toEqual(RESULT);
    const env = fs
      .readFileSync(path.join(dir, "records-and-succeeds.env"), "utf8")
      .trim()
      .split("\n");
    expect(env).toEqual([
      "CNI_ARGS=IgnoreUnknown=1;K8S_POD=p",
      "CNI_COMMAND=ADD",
      `CNI_CONTAINERID=${ID}`,
      "CNI_IFNAME=eth0",
      "CNI_NETNS=/run/berth/netns/x",
      `CNI_PATH=${dir}`,
    ]);
    expect(
      JSON.parse(fs.readFileSync(path.join(dir, "records-and-succeeds.stdin"), "utf8")),
    ).toEqual({
      cniVersion: "1.0.0",
      name: "berth0",
      type: "records-and-succeeds",
    });
  });

  it("turns a CNI error object into one clear NETWORK_FAILED line", async () => {
    const error = (await execPlugin(options(), inv("fails-with-cni-error")).catch(
      (e) => e,
    )) as RuntimeError;
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.code).toBe("NETWORK_FAILED");
    expect(error.message).toBe(
      "CNI plugin fails-with-cni-error ADD for container abc123def456 failed: try again later: lock busy (code 11)",
    );
    expect(error.context).toMatchObject({ cniCode: 11, command: "ADD" });
  });

  it("falls back to stderr and the exit code when there is no error object", async () => {
    await expect(execPlugin(options(), inv("fails-with-stderr"))).rejects.toThrow(
      "CNI plugin fails-with-stderr ADD for container abc123def456 failed: panic: something broke (exit code 2)",
    );
  });

  it("names a missing plugin and the package that provides it", async () => {
    await expect(execPlugin(options(), inv("bridge"))).rejects.toThrow(
      `no executable "bridge" in ${dir} (install containernetworking-plugins)`,
    );
  });

  it("refuses plugin types that are paths", async () => {
    await expect(execPlugin(options(), inv("../../bin/sh"))).rejects.toThrow("no executable");
  });

  it("reports output that is not JSON", async () => {
    await expect(execPlugin(options(), inv("prints-garbage"))).rejects.toThrow(
      "printed output that is not JSON: not json",
    );
  });

  it("resolves undefined for an empty stdout, as after DEL", async () => {
    await expect(
      execPlugin(options(), inv("prints-nothing", { command: "DEL" })),
    ).resolves.toBeUndefined();
  });

  it("kills a plugin that hangs and says so", async () => {
    await expect(execPlugin(options(), inv("sleeps"))).rejects.toThrow("timed out after 300 ms");
  });

  it("rejects a result that breaks the CNI 1.0.0 schema", async () => {
    const i = inv("prints-bad-result");
    const out = await execPlugin(options(), i);
    expect(() => parseResult(i, out)).toThrow(
      "CNI plugin prints-bad-result ADD for container abc123def456 returned an invalid result at ips.0.address",
    );
  });
});
