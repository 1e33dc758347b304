import { describe, expect, it } from "vitest";
import { capabilityMask, DOCKER_DEFAULT_CAPABILITIES } from "../capabilities.ts";
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  BPF_JMP,
  BPF_MAXINSNS,
  decodeProgram,
  X32_SYSCALL_BIT,
} from "./bpf.ts";
import { describeSeccompRet, runFilter } from "./bpf-interpreter.ts";
import { verifyProgram } from "./bpf-verify.ts";
import { compileSeccomp, compileSeccompProfile } from "./compile-filter.ts";
import { CLONE_NAMESPACE_FLAGS, DOCKER_DEFAULT_SECCOMP_PROFILE } from "./default-profile.ts";
import type { OciSeccomp, SeccompOperator } from "./profile-schema.ts";
import { resolveSeccompProfile } from "./resolve-profile.ts";
import { X86_64_SYSCALLS } from "./syscalls-x86_64.ts";

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const SIGCHLD = 17;
const THREAD_FLAGS = 0x3d0f00; // glibc's pthread_create: VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|…

function filterFor(capabilities: readonly string[], kernelRelease = "6.18.44-fc-v595") {
  return compileSeccompProfile(DOCKER_DEFAULT_SECCOMP_PROFILE, { capabilities, kernelRelease });
}

function call(
  program: ReturnType<typeof filterFor>["program"],
  name: string,
  args: (number | bigint)[] = [],
  arch = AUDIT_ARCH_X86_64,
): string {
  const nr = X86_64_SYSCALLS[name];
  if (nr === undefined) throw new Error(`no syscall ${name}`);
  return describeSeccompRet(runFilter(program, { nr, arch, args }));
}

describe("Docker's default profile, compiled for Docker's default capabilities", () => {
  const { program, bytes } = filterFor(DOCKER_DEFAULT_CAPABILITIES);

  it("is a valid program the kernel would take", () => {
    expect(() => verifyProgram(program)).not.toThrow();
    expect(program.length).toBeLessThan(BPF_MAXINSNS);
    expect(bytes.length).toBe(program.length * 8);
    expect(decodeProgram(bytes)).toEqual(program);
  });

  it("allows the everyday calls", () => {
    for (const name of [
      "read",
      "write",
      "openat",
      "execve",
      "exit_group",
      "mmap",
      "futex",
      "epoll_wait",
    ]) {
      expect(call(program, name), name).toBe("ALLOW");
    }
    expect(call(program, "arch_prctl")).toBe("ALLOW");
    expect(call(program, "ptrace")).toBe("ALLOW"); // kernel ≥ 4.8
  });

  it("allows clone without namespace flags and refuses it with any", () => {
    expect(call(program, "clone", [SIGCHLD])).toBe("ALLOW");
    expect(call(program, "clone", [THREAD_FLAGS])).toBe("ALLOW");
    expect(call(program, "clone", [CLONE_NEWUSER | SIGCHLD])).toBe("ERRNO(1)");
    expect(call(program, "clone", [CLONE_NEWNS])).toBe("ERRNO(1)");
    expect(call(program, "clone", [CLONE_NEWNET | SIGCHLD])).toBe("ERRNO(1)");
    // Bits above 32 are not namespace flags: the mask's high word is 0.
    expect(call(program, "clone", [(1n << 40n) | BigInt(SIGCHLD)])).toBe("ALLOW");
  });

  it("answers clone3 with ENOSYS so that libc falls back to clone", () => {
    expect(call(program, "clone3")).toBe("ERRNO(38)");
  });

  it("refuses privileged calls with EPERM", () => {
    for (const name of [
      "mount",
      "umount2",
      "reboot",
      "kexec_load",
      "kexec_file_load",
      "add_key",
      "keyctl",
      "request_key",
      "bpf",
      "init_module",
      "pivot_root",
      "setns",
      "sethostname",
      "swapon",
      "open_by_handle_at",
      "perf_event_open",
      "io_uring_setup",
      "userfaultfd",
      "clock_settime",
    ]) {
      expect(call(program, name), name).toBe("ERRNO(1)");
    }
    expect(call(program, "unshare", [CLONE_NEWNS])).toBe("ERRNO(1)");
  });

  it("allows chroot, which CAP_SYS_CHROOT of the default set opens", () => {
    expect(call(program, "chroot")).toBe("ALLOW");
    expect(call(filterFor(["CAP_KILL"]).program, "chroot")).toBe("ERRNO(1)");
  });

  it("allows only Docker's personality values", () => {
    for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
      expect(call(program, "personality", [v]), String(v)).toBe("ALLOW");
    }
    for (const v of [3, 0x0040000, 0x100000000n, 0xffffffffffffffffn]) {
      expect(call(program, "personality", [v]), String(v)).toBe("ERRNO(1)");
    }
  });

  it("allows socket families except AF_ALG (38) and AF_VSOCK (40)", () => {
    for (const family of [1, 2, 10, 16, 17, 37, 39, 41, 44]) {
      expect(call(program, "socket", [family]), String(family)).toBe("ALLOW");
    }
    expect(call(program, "socket", [38])).toBe("ERRNO(1)");
    expect(call(program, "socket", [40])).toBe("ERRNO(1)");
    // A family with high bits set is above 40 as a 64-bit number, as libseccomp compares.
    expect(call(program, "socket", [0x100000002n])).toBe("ALLOW");
  });

  it("kills other architectures, including i386 calls through int 0x80", () => {
    expect(call(program, "read", [], AUDIT_ARCH_I386)).toBe("KILL_PROCESS");
    expect(call(program, "read", [], 0xc00000b7 /* AUDIT_ARCH_AARCH64 */)).toBe("KILL_PROCESS");
  });

  it("denies x32 calls (nr with bit 30 set) as a kernel without x32 does", () => {
    for (const nr of [X32_SYSCALL_BIT, X32_SYSCALL_BIT | 59, 512 | X32_SYSCALL_BIT, 0xffffffff]) {
      expect(describeSeccompRet(runFilter(program, { nr, arch: AUDIT_ARCH_X86_64 }))).toBe(
        "ERRNO(38)",
      );
    }
  });

  it("refuses numbers no syscall has", () => {
    expect(describeSeccompRet(runFilter(program, { nr: 400, arch: AUDIT_ARCH_X86_64 }))).toBe(
      "ERRNO(1)",
    );
    expect(describeSeccompRet(runFilter(program, { nr: 1000, arch: AUDIT_ARCH_X86_64 }))).toBe(
      "ERRNO(1)",
    );
  });

  it("gives every x86_64 syscall the verdict the resolved profile means", () => {
    const resolved = resolveSeccompProfile(DOCKER_DEFAULT_SECCOMP_PROFILE, {
      capabilities: DOCKER_DEFAULT_CAPABILITIES,
      kernelRelease: "6.18.0",
    });
    const rules = resolved.syscalls ?? [];
    const conditional = new Set(rules.filter((r) => r.args?.length).flatMap((r) => r.names));
    const allowed = new Set(
      rules.filter((r) => r.action === "SCMP_ACT_ALLOW" && !r.args).flatMap((r) => r.names),
    );
    let checked = 0;
    for (const [name, nr] of Object.entries(X86_64_SYSCALLS)) {
      if (conditional.has(name) || name === "clone3") continue;
      const verdict = describeSeccompRet(runFilter(program, { nr, arch: AUDIT_ARCH_X86_64 }));
      expect(verdict, name).toBe(allowed.has(name) ? "ALLOW" : "ERRNO(1)");
      checked++;
    }
    expect(checked).toBeGreaterThan(370);
  });
});

describe("capability-conditioned rules", () => {
  it("CAP_SYS_ADMIN opens mount, unshare, setns and namespace flags of clone", () => {
    const { program } = filterFor([...DOCKER_DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]);
    expect(call(program, "mount")).toBe("ALLOW");
    expect(call(program, "unshare", [CLONE_NEWNS])).toBe("ALLOW");
    expect(call(program, "clone", [CLONE_NEWUSER | SIGCHLD])).toBe("ALLOW");
    expect(call(program, "clone3")).toBe("ALLOW");
    expect(call(program, "reboot")).toBe("ERRNO(1)");
  });

  it("CAP_SYS_PTRACE, CAP_SYS_BOOT, CAP_SYS_TIME, CAP_BPF each open their own calls", () => {
    const { program } = filterFor(["CAP_SYS_PTRACE", "CAP_SYS_BOOT", "CAP_SYS_TIME", "CAP_BPF"]);
    expect(call(program, "kcmp")).toBe("ALLOW");
    expect(call(program, "reboot")).toBe("ALLOW");
    expect(call(program, "settimeofday")).toBe("ALLOW");
    expect(call(program, "bpf")).toBe("ALLOW");
    expect(call(program, "kexec_load")).toBe("ERRNO(1)");
  });

  it("ptrace needs kernel 4.8 or CAP_SYS_PTRACE", () => {
    expect(call(filterFor([], "4.4.0").program, "ptrace")).toBe("ERRNO(1)");
    expect(call(filterFor(["CAP_SYS_PTRACE"], "4.4.0").program, "ptrace")).toBe("ALLOW");
    expect(call(filterFor([], "4.8.0").program, "ptrace")).toBe("ALLOW");
  });

  it("the default capability mask is what the default profile is compiled against", () => {
    expect(capabilityMask(DOCKER_DEFAULT_CAPABILITIES)).toBe(0xa80425fbn);
  });
});

describe("argument comparisons (64-bit, high and low words)", () => {
  const interesting = [
    0n,
    1n,
    37n,
    38n,
    39n,
    0xffffffffn,
    0x100000000n,
    0x100000025n,
    0x100000026n,
    0x100000027n,
    0x1ffffffffn,
    0x200000000n,
    0x7e020000n,
    0xfffffffffffffffen,
    0xffffffffffffffffn,
  ];
  const values = [0n, 38n, 0xffffffffn, 0x100000026n, 0xfffffffffffffffen];
  const reference: Record<
    Exclude<SeccompOperator, "SCMP_CMP_MASKED_EQ">,
    (a: bigint, v: bigint) => boolean
  > = {
    SCMP_CMP_EQ: (a, v) => a === v,
    SCMP_CMP_NE: (a, v) => a !== v,
    SCMP_CMP_LT: (a, v) => a < v,
    SCMP_CMP_LE: (a, v) => a <= v,
    SCMP_CMP_GT: (a, v) => a > v,
    SCMP_CMP_GE: (a, v) => a >= v,
  };

  for (const [op, holds] of Object.entries(reference)) {
    it(`${op} matches unsigned 64-bit comparison`, () => {
      for (const value of values) {
        const { program } = compileSeccomp({
          defaultAction: "SCMP_ACT_ERRNO",
          syscalls: [
            {
              names: ["read"],
              action: "SCMP_ACT_ALLOW",
              args: [{ index: 2, value, op: op as SeccompOperator }],
            },
          ],
        });
        for (const arg of interesting) {
          const got = call(program, "read", [0, 0, arg]);
          expect(got, `${arg} ${op} ${value}`).toBe(holds(arg, value) ? "ALLOW" : "ERRNO(1)");
        }
      }
    });
  }

  it("SCMP_CMP_MASKED_EQ compares (arg & value) with valueTwo on both words", () => {
    const mask = 0xff000000000000ffn;
    const want = 0x1200000000000034n;
    const { program } = compileSeccomp({
      defaultAction: "SCMP_ACT_KILL",
      syscalls: [
        {
          names: ["ioctl"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 5, value: mask, valueTwo: want, op: "SCMP_CMP_MASKED_EQ" }],
        },
      ],
    });
    for (const arg of [
      want,
      want | 0x00ffff0000ffff00n,
      0x1300000000000034n,
      0x1200000000000035n,
      0n,
    ]) {
      const expected = (arg & mask) === want ? "ALLOW" : "KILL_THREAD";
      expect(call(program, "ioctl", [0, 0, 0, 0, 0, arg]), arg.toString(16)).toBe(expected);
    }
  });

  it("ANDs conditions on different arguments and ORs a rule that repeats an argument", () => {
    const { program } = compileSeccomp({
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        {
          names: ["kill"],
          action: "SCMP_ACT_ALLOW",
          args: [
            { index: 0, value: 1, op: "SCMP_CMP_EQ" },
            { index: 1, value: 9, op: "SCMP_CMP_EQ" },
          ],
        },
        {
          names: ["tkill"],
          action: "SCMP_ACT_ALLOW",
          args: [
            { index: 1, value: 15, op: "SCMP_CMP_EQ" },
            { index: 1, value: 2, op: "SCMP_CMP_EQ" },
          ],
        },
      ],
    });
    expect(call(program, "kill", [1, 9])).toBe("ALLOW");
    expect(call(program, "kill", [1, 15])).toBe("ERRNO(1)");
    expect(call(program, "kill", [2, 9])).toBe("ERRNO(1)");
    expect(call(program, "tkill", [0, 15])).toBe("ALLOW");
    expect(call(program, "tkill", [0, 2])).toBe("ALLOW");
    expect(call(program, "tkill", [0, 9])).toBe("ERRNO(1)");
  });
});

describe("actions and errno values", () => {
  it("encodes each action, with errnoRet and defaultErrnoRet", () => {
    const { program } = compileSeccomp({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 13,
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ALLOW" },
        { names: ["write"], action: "SCMP_ACT_ERRNO", errnoRet: 5 },
        { names: ["open"], action: "SCMP_ACT_ERRNO" },
        { names: ["close"], action: "SCMP_ACT_KILL_PROCESS" },
        { names: ["stat"], action: "SCMP_ACT_KILL" },
        { names: ["fstat"], action: "SCMP_ACT_TRAP" },
        { names: ["lstat"], action: "SCMP_ACT_LOG" },
        { names: ["poll"], action: "SCMP_ACT_TRACE", errnoRet: 7 },
      ],
    });
    expect(call(program, "read")).toBe("ALLOW");
    expect(call(program, "write")).toBe("ERRNO(5)");
    expect(call(program, "open")).toBe("ERRNO(1)"); // a rule's errno defaults to EPERM
    expect(call(program, "close")).toBe("KILL_PROCESS");
    expect(call(program, "stat")).toBe("KILL_THREAD");
    expect(call(program, "fstat")).toBe("TRAP");
    expect(call(program, "lstat")).toBe("LOG");
    expect(call(program, "poll")).toBe("TRACE(7)");
    expect(call(program, "mount")).toBe("ERRNO(13)");
  });

  it("compiles an allow-by-default list that still kills foreign architectures", () => {
    const { program } = compileSeccomp({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mount", "chown32"], action: "SCMP_ACT_ERRNO" }],
    });
    expect(call(program, "mount")).toBe("ERRNO(1)");
    expect(call(program, "read")).toBe("ALLOW");
    expect(call(program, "read", [], AUDIT_ARCH_I386)).toBe("KILL_PROCESS");
  });

  it("reports names x86_64 does not have instead of failing", () => {
    const { unknownSyscalls } = filterFor(DOCKER_DEFAULT_CAPABILITIES);
    expect(unknownSyscalls).toContain("chown32");
    expect(unknownSyscalls).toContain("socketcall");
    expect(unknownSyscalls).not.toContain("read");
  });

  it("refuses what it cannot compile, in one line", () => {
    const notify: OciSeccomp = { defaultAction: "SCMP_ACT_NOTIFY" };
    expect(() => compileSeccomp(notify)).toThrow(
      "seccomp action SCMP_ACT_NOTIFY needs a seccomp agent, which Berth does not run",
    );
    expect(() =>
      compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_AARCH64"] }),
    ).toThrow(
      "seccomp policy lists architectures SCMP_ARCH_AARCH64 but not SCMP_ARCH_X86_64; Berth compiles filters for x86_64 only",
    );
    expect(() =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [
          { names: ["read"], action: "SCMP_ACT_ALLOW" },
          { names: ["read"], action: "SCMP_ACT_KILL" },
        ],
      }),
    ).toThrow("seccomp policy gives syscall read conflicting unconditional actions");
    expect(() =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ERRNO",
        flags: ["SECCOMP_FILTER_FLAG_NEW_LISTENER"],
      }),
    ).toThrow(/^unsupported seccomp flag SECCOMP_FILTER_FLAG_NEW_LISTENER/);
  });

  it("passes the filter flags it knows", () => {
    const { flags } = compileSeccomp({
      defaultAction: "SCMP_ACT_ERRNO",
      flags: ["SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"],
    });
    expect(flags).toBe(6);
  });
});

describe("long programs", () => {
  it("reaches far targets through trampolines and stays valid", () => {
    // Every syscall with its own conditional rule: bodies far beyond 255 instructions of the tree.
    const syscalls = Object.keys(X86_64_SYSCALLS).map((name, i) => ({
      names: [name],
      action: "SCMP_ACT_ALLOW" as const,
      args: [{ index: i % 6, value: i, op: "SCMP_CMP_EQ" as const }],
    }));
    const { program } = compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", syscalls });
    expect(program.length).toBeGreaterThan(1000);
    expect(program.some((ins) => ins.code === BPF_JMP)).toBe(true); // at least one JA
    verifyProgram(program);
    Object.entries(X86_64_SYSCALLS).forEach(([name, nr], i) => {
      const args = [0, 0, 0, 0, 0, 0];
      args[i % 6] = i;
      expect(
        describeSeccompRet(runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args })),
        name,
      ).toBe("ALLOW");
      args[i % 6] = i + 1;
      expect(
        describeSeccompRet(runFilter(program, { nr, arch: AUDIT_ARCH_X86_64, args })),
        name,
      ).toBe("ERRNO(1)");
    });
  });
});

describe("CLONE_NAMESPACE_FLAGS", () => {
  it("is NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET", () => {
    expect(CLONE_NAMESPACE_FLAGS).toBe(0x7e020000);
  });
});

describe("policy validation", () => {
  it("rejects a malformed policy in one line", () => {
    expect(() =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: [], action: "SCMP_ACT_ALLOW" }],
      }),
    ).toThrow(/^invalid seccomp policy: syscalls\.0\.names: /);
  });
});
