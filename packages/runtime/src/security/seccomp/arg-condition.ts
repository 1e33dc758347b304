import { argHighOffset, argLowOffset, BPF_JEQ, BPF_JGE, BPF_JGT } from "./bpf.ts";
import type { BpfAssembler, Label } from "./bpf-assembler.ts";
import type { SeccompArg } from "./profile-schema.ts";

/*
 * Classic BPF compares 32-bit words, and syscall arguments are 64-bit: each comparison looks at
 * the high word first and at the low word only when the high words are equal, as libseccomp does.
 */

/** Emits one argument test: falls through when it holds, jumps to `fail` when it does not. */
export function emitCondition(asm: BpfAssembler, arg: SeccompArg, fail: Label): void {
  const [hi, lo] = words(arg.value);
  const hiOff = argHighOffset(arg.index);
  const loOff = argLowOffset(arg.index);
  const pass = asm.label();
  switch (arg.op) {
    case "SCMP_CMP_EQ":
      asm.load(hiOff);
      asm.jump(BPF_JEQ, hi, "next", fail);
      asm.load(loOff);
      asm.jump(BPF_JEQ, lo, "next", fail);
      break;
    case "SCMP_CMP_NE":
      asm.load(hiOff);
      asm.jump(BPF_JEQ, hi, "next", pass);
      asm.load(loOff);
      asm.jump(BPF_JEQ, lo, fail, "next");
      break;
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE":
      // hi > H: true; hi < H: false; hi == H: compare the low words.
      asm.load(hiOff);
      asm.jump(BPF_JGT, hi, pass, "next");
      if (hi !== 0) asm.jump(BPF_JEQ, hi, "next", fail);
      asm.load(loOff);
      asm.jump(arg.op === "SCMP_CMP_GT" ? BPF_JGT : BPF_JGE, lo, "next", fail);
      break;
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE":
      asm.load(hiOff);
      asm.jump(BPF_JGT, hi, fail, "next");
      if (hi !== 0) asm.jump(BPF_JEQ, hi, "next", pass);
      asm.load(loOff);
      asm.jump(arg.op === "SCMP_CMP_LT" ? BPF_JGE : BPF_JGT, lo, fail, "next");
      break;
    case "SCMP_CMP_MASKED_EQ": {
      const [wantHi, wantLo] = words(arg.valueTwo ?? 0);
      asm.load(hiOff);
      asm.and(hi);
      asm.jump(BPF_JEQ, wantHi, "next", fail);
      asm.load(loOff);
      asm.and(lo);
      asm.jump(BPF_JEQ, wantLo, "next", fail);
      break;
    }
  }
  asm.bind(pass);
}

/** [high 32 bits, low 32 bits] of an unsigned 64-bit value. */
function words(value: number | bigint): [number, number] {
  const v = BigInt(value);
  return [Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
}
