import { RuntimeError } from "../../errors.ts";
import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_RET,
  BPF_W,
  SECCOMP_DATA_SIZE,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
  type SockFilter,
} from "./bpf.ts";

/** The input of a seccomp filter (struct seccomp_data). */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six arguments, unsigned 64-bit; missing ones are 0. */
  args?: readonly (bigint | number)[];
}

/** seccomp_data as the kernel lays it out, little-endian. */
export function seccompDataBytes(data: SeccompData): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA_SIZE);
  buf.writeInt32LE(data.nr | 0, 0);
  buf.writeUInt32LE(data.arch >>> 0, 4);
  buf.writeBigUInt64LE(data.instructionPointer ?? 0n, 8);
  for (let i = 0; i < 6; i++)
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(data.args?.[i] ?? 0)), 16 + 8 * i);
  return buf;
}

/**
 * Runs a seccomp program on one seccomp_data, as the kernel would, and returns the 32-bit value it
 * returns. Understands the instructions the compiler emits; used by tests and for diagnosing what
 * a filter does with a call (`berth` never installs a filter it has not verified).
 */
export function runFilter(program: readonly SockFilter[], data: SeccompData): number {
  const mem = seccompDataBytes(data);
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps <= program.length; steps++) {
    const ins = program[pc];
    if (!ins) throw bad(pc, "ran off the end of the program");
    const { code, jt, jf, k } = ins;
    let next = pc + 1;
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k % 4 !== 0 || k + 4 > SECCOMP_DATA_SIZE) throw bad(pc, `load of offset ${k}`);
        a = mem.readUInt32LE(k);
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a = (a & k) >>> 0;
        break;
      case BPF_JMP | BPF_JA:
        next += k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        next += a === k >>> 0 ? jt : jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        next += a > k >>> 0 ? jt : jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        next += a >= k >>> 0 ? jt : jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        next += (a & k) !== 0 ? jt : jf;
        break;
      case BPF_RET | BPF_K:
        return k >>> 0;
      default:
        throw bad(pc, `unsupported opcode 0x${code.toString(16)}`);
    }
    pc = next;
  }
  throw bad(pc, "did not return");
}

/** A filter's return value in words: `ALLOW`, `ERRNO(1)`, `KILL_PROCESS`, … */
export function describeSeccompRet(ret: number): string {
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = ret & SECCOMP_RET_DATA;
  switch (action) {
    case SECCOMP_RET_ALLOW:
      return "ALLOW";
    case SECCOMP_RET_ERRNO:
      return `ERRNO(${data})`;
    case SECCOMP_RET_KILL_PROCESS:
      return "KILL_PROCESS";
    case SECCOMP_RET_KILL_THREAD:
      return "KILL_THREAD";
    case SECCOMP_RET_TRAP:
      return "TRAP";
    case SECCOMP_RET_TRACE:
      return `TRACE(${data})`;
    case SECCOMP_RET_LOG:
      return "LOG";
    case SECCOMP_RET_USER_NOTIF:
      return "USER_NOTIF";
    default:
      return `0x${ret.toString(16)}`;
  }
}

function bad(pc: number, why: string): RuntimeError {
  return new RuntimeError("INTERNAL", `BPF interpreter: instruction ${pc}: ${why}`);
}
