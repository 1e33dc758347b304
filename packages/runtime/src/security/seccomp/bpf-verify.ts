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
  BPF_MAXINSNS,
  BPF_RET,
  BPF_W,
  SECCOMP_DATA_SIZE,
  type SockFilter,
} from "./bpf.ts";

const CONDITIONAL_JUMPS = new Set(
  [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].map((op) => BPF_JMP | op | BPF_K),
);

/**
 * Checks a seccomp program the way the kernel will before accepting it (bpf_check_classic and
 * seccomp_check_filter), restricted to the instructions the compiler emits: at most 4096
 * instructions, loads only of aligned words inside seccomp_data, every jump forward and inside the
 * program, and a RET last — with forward-only jumps that means every path ends in a RET.
 * Throws INTERNAL naming the first bad instruction: a failure here is a compiler bug.
 */
export function verifyProgram(program: readonly SockFilter[]): void {
  const fail = (pc: number, why: string): never => {
    throw new RuntimeError("INTERNAL", `invalid seccomp program at instruction ${pc}: ${why}`, {
      instruction: program[pc],
    });
  };
  if (program.length === 0 || program.length > BPF_MAXINSNS) {
    fail(0, `${program.length} instructions; the kernel takes 1 to ${BPF_MAXINSNS}`);
  }
  const inRange = (pc: number, off: number) => pc + 1 + off < program.length;
  program.forEach((ins, pc) => {
    const { code, jt, jf, k } = ins;
    if (code === (BPF_LD | BPF_W | BPF_ABS)) {
      if (k % 4 !== 0 || k >= SECCOMP_DATA_SIZE)
        fail(pc, `load of offset ${k} outside seccomp_data`);
    } else if (code === (BPF_ALU | BPF_AND | BPF_K) || code === (BPF_RET | BPF_K)) {
      // no operands to check
    } else if (code === (BPF_JMP | BPF_JA)) {
      if (!inRange(pc, k)) fail(pc, `ja +${k} leaves the program`);
    } else if (CONDITIONAL_JUMPS.has(code)) {
      if (!inRange(pc, jt) || !inRange(pc, jf)) fail(pc, `jump +${jt}/+${jf} leaves the program`);
    } else {
      fail(pc, `opcode 0x${code.toString(16)} is not one the compiler emits`);
    }
    if (jt > 255 || jf > 255 || k < 0 || k > 0xffffffff) fail(pc, "field out of range");
  });
  if (program[program.length - 1]!.code !== (BPF_RET | BPF_K)) {
    fail(program.length - 1, "the last instruction must be a RET");
  }
}
