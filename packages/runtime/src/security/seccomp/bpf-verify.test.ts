import { describe, expect, it } from "vitest";
import { BPF_MAXINSNS, type SockFilter } from "./bpf.ts";
import { verifyProgram } from "./bpf-verify.ts";

const ret = (k = 0): SockFilter => ({ code: 0x06, jt: 0, jf: 0, k });
const jeq = (jt: number, jf: number): SockFilter => ({ code: 0x15, jt, jf, k: 0 });

describe("verifyProgram", () => {
  it("accepts a minimal program", () => {
    expect(() =>
      verifyProgram([{ code: 0x20, jt: 0, jf: 0, k: 4 }, jeq(0, 1), ret(), ret(1)]),
    ).not.toThrow();
  });

  it("refuses empty and oversized programs", () => {
    expect(() => verifyProgram([])).toThrow(
      "invalid seccomp program at instruction 0: 0 instructions; the kernel takes 1 to 4096",
    );
    expect(() => verifyProgram(Array.from({ length: BPF_MAXINSNS + 1 }, () => ret()))).toThrow(
      /4097 instructions/,
    );
  });

  it("refuses jumps past the end", () => {
    expect(() => verifyProgram([jeq(0, 2), ret(), ret()])).toThrow(
      "invalid seccomp program at instruction 0: jump +0/+2 leaves the program",
    );
    expect(() => verifyProgram([{ code: 0x05, jt: 0, jf: 0, k: 1 }, ret()])).toThrow(
      /ja \+1 leaves the program/,
    );
  });

  it("refuses loads outside seccomp_data or misaligned", () => {
    expect(() => verifyProgram([{ code: 0x20, jt: 0, jf: 0, k: 64 }, ret()])).toThrow(
      /load of offset 64/,
    );
    expect(() => verifyProgram([{ code: 0x20, jt: 0, jf: 0, k: 2 }, ret()])).toThrow(
      /load of offset 2/,
    );
  });

  it("refuses a program that does not end in RET, and opcodes it does not know", () => {
    expect(() => verifyProgram([ret(), { code: 0x20, jt: 0, jf: 0, k: 0 }])).toThrow(
      "invalid seccomp program at instruction 1: the last instruction must be a RET",
    );
    expect(() => verifyProgram([{ code: 0x07, jt: 0, jf: 0, k: 0 }, ret()])).toThrow(/opcode 0x7/);
  });
});
