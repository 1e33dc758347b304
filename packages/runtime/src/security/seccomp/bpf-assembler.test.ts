import { describe, expect, it } from "vitest";
import { BPF_JA, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_RET, SECCOMP_DATA_NR } from "./bpf.ts";
import { BpfAssembler } from "./bpf-assembler.ts";
import { runFilter } from "./bpf-interpreter.ts";
import { verifyProgram } from "./bpf-verify.ts";

const ARCH = 0xc000003e;

describe("BpfAssembler", () => {
  it("resolves near labels to 8-bit offsets", () => {
    const asm = new BpfAssembler();
    const yes = asm.label();
    asm.load(SECCOMP_DATA_NR);
    asm.jump(BPF_JEQ, 7, yes, "next");
    asm.ret(1);
    asm.bind(yes);
    asm.ret(2);
    const program = asm.assemble();
    expect(program).toEqual([
      { code: 0x20, jt: 0, jf: 0, k: 0 },
      { code: BPF_JMP | BPF_JEQ | BPF_K, jt: 1, jf: 0, k: 7 },
      { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 1 },
      { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: 2 },
    ]);
  });

  it("bridges jumps longer than 255 with JA, or a copy of a RET target", () => {
    const asm = new BpfAssembler();
    const farBody = asm.label();
    const farRet = asm.label();
    asm.load(SECCOMP_DATA_NR);
    asm.jump(BPF_JEQ, 1, farBody, "next");
    asm.jump(BPF_JGE, 2, "next", farRet);
    for (let i = 0; i < 300; i++) asm.ret(1000 + i); // unreachable padding
    asm.bind(farBody);
    asm.load(SECCOMP_DATA_NR); // not a RET: needs a JA
    asm.ret(42);
    asm.bind(farRet);
    asm.ret(99);
    const program = asm.assemble();
    verifyProgram(program);
    expect(program.some((ins) => ins.code === (BPF_JMP | BPF_JA))).toBe(true);
    for (const ins of program) {
      expect(ins.jt).toBeLessThanOrEqual(255);
      expect(ins.jf).toBeLessThanOrEqual(255);
    }
    expect(runFilter(program, { nr: 1, arch: ARCH })).toBe(42);
    expect(runFilter(program, { nr: 0, arch: ARCH })).toBe(99);
    expect(runFilter(program, { nr: 2, arch: ARCH })).toBe(1000);
  });

  it("refuses unbound labels", () => {
    const asm = new BpfAssembler();
    asm.jump(BPF_JEQ, 1, asm.label(), "next");
    asm.ret(0);
    expect(() => asm.assemble()).toThrow(/never bound/);
  });

  it("refuses backward jumps", () => {
    const asm = new BpfAssembler();
    const top = asm.label();
    asm.bind(top);
    asm.ret(0);
    asm.goto(top);
    expect(() => asm.assemble()).toThrow(/backward jump/);
  });
});
