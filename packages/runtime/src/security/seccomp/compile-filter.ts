import { RuntimeError } from "../../errors.ts";
import { emitCondition } from "./arg-condition.ts";
import {
  AUDIT_ARCH_X86_64,
  BPF_JEQ,
  BPF_JGE,
  encodeProgram,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_NR,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  type SockFilter,
  X32_SYSCALL_BIT,
} from "./bpf.ts";
import { BpfAssembler, type Label } from "./bpf-assembler.ts";
import { verifyProgram } from "./bpf-verify.ts";
import {
  type OciSeccomp,
  ociSeccompSchema,
  type SeccompArg,
  type SeccompProfile,
} from "./profile-schema.ts";
import { type ProfileTarget, resolveSeccompProfile } from "./resolve-profile.ts";
import { actionValue, filterFlags } from "./seccomp-actions.ts";
import { X86_64_SYSCALLS } from "./syscalls-x86_64.ts";

const ENOSYS = 38;

/** Calls of another architecture (i386 through int 0x80, …) kill the process, like libseccomp. */
export const FOREIGN_ARCH_ACTION = SECCOMP_RET_KILL_PROCESS;
/** x32 calls (nr with bit 30 set) get what a kernel without x32 support answers. */
export const X32_ACTION = SECCOMP_RET_ERRNO | ENOSYS;

/** A compiled filter; results are cached and shared, so treat them as read-only. */
export interface CompiledSeccomp {
  /** The instructions, for inspection and tests. */
  readonly program: readonly SockFilter[];
  /** struct sock_filter[] as the kernel reads it (8 bytes each, little-endian). */
  readonly bytes: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER, flags, …). */
  flags: number;
  /** Syscall names of the policy that x86_64 does not have (ignored, as libseccomp does). */
  unknownSyscalls: string[];
}

interface Rule {
  ret: number;
  args: SeccompArg[];
}

/**
 * Compiles an OCI `linux.seccomp` policy into a seccomp BPF program for x86_64. The program kills
 * the process for any architecture other than AUDIT_ARCH_X86_64 (i386 calls through int 0x80
 * included), answers ENOSYS to x32 calls, then finds the syscall by binary search over its number
 * and evaluates that syscall's rules in order: a rule's argument conditions must all hold (64-bit
 * comparisons, high word then low word); a rule naming one argument twice is split into one rule
 * per condition (any may match), as runc does. Conditional rules are tried before an unconditional
 * one; anything unmatched gets the default action.
 */
export function compileSeccomp(policy: OciSeccomp): CompiledSeccomp {
  // Containers mostly share a handful of policies; compiling one takes milliseconds.
  const key = JSON.stringify(policy, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
  const cached = cache.get(key);
  if (cached) return cached;
  const compiled = compileUncached(policy);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

const CACHE_SIZE = 16;
const cache = new Map<string, CompiledSeccomp>();

function compileUncached(policy: OciSeccomp): CompiledSeccomp {
  const parsed = ociSeccompSchema.safeParse(policy);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`invalid seccomp policy: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const seccomp = parsed.data;
  if (seccomp.architectures?.length && !seccomp.architectures.includes("SCMP_ARCH_X86_64")) {
    throw invalid(
      `seccomp policy lists architectures ${seccomp.architectures.join(", ")} but not SCMP_ARCH_X86_64; Berth compiles filters for x86_64 only`,
    );
  }
  const defaultRet = actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet);
  const { bySyscall, unknown } = collectRules(seccomp);

  const asm = new BpfAssembler();
  const nativeArch = asm.label();
  asm.load(SECCOMP_DATA_ARCH);
  asm.jump(BPF_JEQ, AUDIT_ARCH_X86_64, nativeArch, "next");
  asm.ret(FOREIGN_ARCH_ACTION);
  asm.bind(nativeArch);
  asm.load(SECCOMP_DATA_NR);
  const nativeAbi = asm.label();
  asm.jump(BPF_JGE, X32_SYSCALL_BIT, "next", nativeAbi);
  asm.ret(X32_ACTION);
  asm.bind(nativeAbi);

  const entries = [...bySyscall.entries()]
    .map(([nr, rules]) => ({ nr, rules: orderRules(nr, rules, defaultRet) }))
    .filter((e) => e.rules.length > 0 && !(e.rules.length === 1 && e.rules[0]!.ret === defaultRet))
    .sort((a, b) => a.nr - b.nr);
  emitDispatch(asm, entries, defaultRet);

  const program = asm.assemble();
  verifyProgram(program);
  return {
    program,
    bytes: encodeProgram(program),
    flags: filterFlags(seccomp.flags),
    unknownSyscalls: unknown,
  };
}

/** Resolves a Docker profile for a container (capabilities, kernel) and compiles it. */
export function compileSeccompProfile(
  profile: SeccompProfile,
  target: ProfileTarget,
): CompiledSeccomp {
  return compileSeccomp(resolveSeccompProfile(profile, target));
}

function collectRules(seccomp: OciSeccomp) {
  const bySyscall = new Map<number, Rule[]>();
  const unknown = new Set<string>();
  for (const rule of seccomp.syscalls ?? []) {
    const ret = actionValue(rule.action, rule.errnoRet);
    const args = rule.args ?? [];
    const indexes = args.map((a) => a.index);
    const repeated = new Set(indexes).size !== indexes.length;
    const split: Rule[] = repeated ? args.map((a) => ({ ret, args: [a] })) : [{ ret, args }];
    for (const name of rule.names) {
      const nr = X86_64_SYSCALLS[name];
      if (nr === undefined) {
        unknown.add(name);
        continue;
      }
      const list = bySyscall.get(nr) ?? [];
      list.push(...split);
      bySyscall.set(nr, list);
    }
  }
  return { bySyscall, unknown: [...unknown].sort() };
}

/**
 * Conditional rules first (in policy order), then at most one unconditional rule. A conditional
 * rule is dropped when it cannot change the outcome: its action is the one that every later rule
 * and the fallback give anyway.
 */
function orderRules(nr: number, rules: Rule[], defaultRet: number): Rule[] {
  const unconditional = rules.filter((r) => r.args.length === 0);
  if (new Set(unconditional.map((r) => r.ret)).size > 1) {
    throw invalid(
      `seccomp policy gives syscall ${syscallName(nr)} conflicting unconditional actions`,
    );
  }
  const fallback = unconditional[0];
  const terminal = fallback?.ret ?? defaultRet;
  const kept: Rule[] = [];
  let onlyTerminalAfter = true;
  for (const rule of rules.filter((r) => r.args.length > 0).reverse()) {
    if (rule.ret === terminal && onlyTerminalAfter) continue;
    if (rule.ret !== terminal) onlyTerminalAfter = false;
    kept.unshift(rule);
  }
  return fallback ? [...kept, fallback] : kept;
}

function syscallName(nr: number): string {
  return Object.entries(X86_64_SYSCALLS).find(([, n]) => n === nr)?.[0] ?? `#${nr}`;
}

const LEAF_SIZE = 4;

interface Entry {
  nr: number;
  rules: Rule[];
}

/** Binary search on the syscall number; each leaf is a short chain of equality tests. */
function emitDispatch(asm: BpfAssembler, entries: Entry[], defaultRet: number): void {
  if (entries.length <= LEAF_SIZE) {
    emitLeaf(asm, entries, defaultRet);
    return;
  }
  const mid = entries.length >> 1;
  const upper = asm.label();
  asm.jump(BPF_JGE, entries[mid]!.nr, upper, "next");
  emitDispatch(asm, entries.slice(0, mid), defaultRet);
  asm.bind(upper);
  emitDispatch(asm, entries.slice(mid), defaultRet);
}

function emitLeaf(asm: BpfAssembler, entries: Entry[], defaultRet: number): void {
  // Syscalls of a leaf with identical rules share one body (usually a single RET ALLOW).
  const bodies = new Map<string, { label: Label; rules: Rule[] }>();
  for (const entry of entries) {
    const key = ruleKey(entry.rules);
    let body = bodies.get(key);
    if (!body) {
      body = { label: asm.label(), rules: entry.rules };
      bodies.set(key, body);
    }
    asm.jump(BPF_JEQ, entry.nr, body.label, "next");
  }
  asm.ret(defaultRet);
  for (const body of bodies.values()) {
    asm.bind(body.label);
    emitRules(asm, body.rules, defaultRet);
  }
}

function ruleKey(rules: Rule[]): string {
  return rules
    .map(
      (r) =>
        `${r.ret}:${r.args.map((a) => `${a.index},${a.op},${a.value},${a.valueTwo ?? 0}`).join(";")}`,
    )
    .join("|");
}

function emitRules(asm: BpfAssembler, rules: Rule[], defaultRet: number): void {
  for (const rule of rules) {
    if (rule.args.length === 0) {
      asm.ret(rule.ret);
      return;
    }
    const nextRule = asm.label();
    for (const arg of rule.args) emitCondition(asm, arg, nextRule);
    asm.ret(rule.ret);
    asm.bind(nextRule);
  }
  asm.ret(defaultRet);
}

function invalid(message: string): RuntimeError {
  return new RuntimeError("INVALID_ARGUMENT", message);
}
