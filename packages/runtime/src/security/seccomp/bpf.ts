import { RuntimeError } from "../../errors.ts";

/**
 * Classic BPF as seccomp uses it (include/uapi/linux/filter.h, bpf_common.h, seccomp.h): the
 * instruction encoding, the seccomp_data layout a filter reads, and the return values it gives.
 */

/** struct sock_filter: one instruction. `jt`/`jf` are forward offsets from the next instruction. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// Instruction classes and fields (bpf_common.h).
export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_AND = 0x50;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_K = 0x00;

/** The longest program the kernel accepts (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

// Offsets into struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }.
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const SECCOMP_DATA_SIZE = 64;
/** Offset of the low 32 bits of args[index] (x86_64 is little-endian). */
export const argLowOffset = (index: number) => 16 + 8 * index;
/** Offset of the high 32 bits of args[index]. */
export const argHighOffset = (index: number) => 16 + 8 * index + 4;

// Filter return values (seccomp.h). The low 16 bits carry data (an errno, a trace message).
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** AUDIT_ARCH_I386: 32-bit calls through int 0x80 on an x86_64 kernel report this arch. */
export const AUDIT_ARCH_I386 = 0x40000003;
/** x32 ABI calls carry this bit in nr while reporting AUDIT_ARCH_X86_64. */
export const X32_SYSCALL_BIT = 0x40000000;

export const stmt = (code: number, k: number): SockFilter => ({ code, jt: 0, jf: 0, k: k >>> 0 });

/** Serialises a program as the kernel reads it: 8 bytes per instruction, little-endian. */
export function encodeProgram(program: readonly SockFilter[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(ins.jt, i * 8 + 2);
    buf.writeUInt8(ins.jf, i * 8 + 3);
    buf.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return buf;
}

/** The inverse of encodeProgram. */
export function decodeProgram(buf: Uint8Array): SockFilter[] {
  if (buf.length % 8 !== 0)
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `BPF program of ${buf.length} bytes is not a multiple of 8`,
    );
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const program: SockFilter[] = [];
  for (let off = 0; off < view.length; off += 8) {
    program.push({
      code: view.readUInt16LE(off),
      jt: view.readUInt8(off + 2),
      jf: view.readUInt8(off + 3),
      k: view.readUInt32LE(off + 4),
    });
  }
  return program;
}
