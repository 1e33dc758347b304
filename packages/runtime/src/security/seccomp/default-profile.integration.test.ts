import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DOCKER_DEFAULT_CAPABILITIES } from "../capabilities.ts";
import { compileSeccompProfile } from "./compile-filter.ts";
import { DOCKER_DEFAULT_SECCOMP_PROFILE } from "./default-profile.ts";

/*
 * Loads the compiled default profile into the real kernel, in a throwaway `node` process that goes
 * through the runtime's kernel seam (src/sys/linux.mjs) — the test process itself stays unfiltered.
 * The same probes run once without the filter, to show that the refusals come from seccomp.
 */
const CHILD = `
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
const { linuxSyscalls: sys } = await import(process.argv[2]);
const filterPath = process.argv[3];
const out = {};
const attempt = (name, fn) => {
  try { fn(); out[name] = "ok"; } catch (e) { out[name] = e.errnoName ?? String(e); }
};
if (filterPath) {
  sys.prctl(38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0);
  sys.seccompInstall(readFileSync(filterPath));
}
attempt("mount", () => sys.mount("none", "/berth-seccomp-probe-does-not-exist", "tmpfs", 0, null));
attempt("setns", () => sys.setns(-1, 0));
attempt("unshareMountNs", () => sys.unshare(0x00020000));
attempt("spawnChild", () => {
  const r = spawnSync("/bin/true");
  if (r.status !== 0) throw new Error("exit " + r.status + " " + (r.error?.code ?? ""));
});
const status = readFileSync("/proc/self/status", "utf8");
out.seccomp = /^Seccomp:\\s+(\\d+)/m.exec(status)?.[1];
out.noNewPrivs = /^NoNewPrivs:\\s+(\\d+)/m.exec(status)?.[1];
process.stdout.write(JSON.stringify(out));
`;

const dir = mkdtempSync(join(tmpdir(), "berth-test-seccomp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function probe(filter?: Buffer): Record<string, string> {
  const script = join(dir, "probe.mjs");
  writeFileSync(script, CHILD);
  const args = [script, new URL("../../sys/linux.mjs", import.meta.url).href];
  if (filter) {
    const filterPath = join(dir, "filter.bpf");
    writeFileSync(filterPath, filter);
    args.push(filterPath);
  }
  const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`probe exited ${r.status} (${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(process.getuid?.() !== 0)("the default profile in the kernel", () => {
  const { bytes } = compileSeccompProfile(DOCKER_DEFAULT_SECCOMP_PROFILE, {
    capabilities: DOCKER_DEFAULT_CAPABILITIES,
    kernelRelease: "6.18",
  });

  it("without a filter the probes reach the kernel's own checks", () => {
    const out = probe();
    expect(out.mount).toBe("ENOENT");
    expect(out.setns).toBe("EBADF");
    expect(out.unshareMountNs).toBe("ok");
    expect(out.seccomp).toBe("0");
  });

  it("is accepted by seccomp(2) and refuses mount, setns and unshare with EPERM", () => {
    const out = probe(bytes);
    expect(out.seccomp).toBe("2");
    expect(out.noNewPrivs).toBe("1");
    expect(out.mount).toBe("EPERM");
    expect(out.setns).toBe("EPERM");
    expect(out.unshareMountNs).toBe("EPERM");
  });

  it("lets a filtered process start threads and children (clone3 → ENOSYS → clone)", () => {
    expect(probe(bytes).spawnChild).toBe("ok");
  });
});
