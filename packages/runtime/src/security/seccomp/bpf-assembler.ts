import { RuntimeError } from "../../errors.ts";
import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_JA,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_RET,
  BPF_W,
  type SockFilter,
  stmt,
} from "./bpf.ts";

/** A position in the program, bound once with `bind`; jumps may only go forward to it. */
export interface Label {
  readonly id: number;
}

/** Where a conditional jump goes: a label, or straight on to the next instruction. */
export type Target = Label | "next";

type Item =
  | { kind: "stmt"; ins: SockFilter }
  | { kind: "jump"; code: number; k: number; jt: Label; jf: Label }
  | { kind: "goto"; target: Label }
  | { kind: "label"; label: Label };

const MAX_COND_OFFSET = 255;

/**
 * Builds a classic BPF program with symbolic forward jumps. Conditional jumps carry 8-bit offsets,
 * so `assemble` gives every jump whose target is more than 255 instructions away a trampoline
 * placed right after it: a copy of the target when that is a RET, else a `ja` (32-bit offset).
 */
export class BpfAssembler {
  private items: Item[] = [];
  private nextLabel = 0;
  private bound = new Set<number>();

  label(): Label {
    return { id: this.nextLabel++ };
  }

  bind(label: Label): void {
    if (this.bound.has(label.id)) throw internal(`label ${label.id} bound twice`);
    this.bound.add(label.id);
    this.items.push({ kind: "label", label });
  }

  /** A = the 32-bit word at `offset` in seccomp_data. */
  load(offset: number): void {
    this.items.push({ kind: "stmt", ins: stmt(BPF_LD | BPF_W | BPF_ABS, offset) });
  }

  /** A &= k. */
  and(k: number): void {
    this.items.push({ kind: "stmt", ins: stmt(BPF_ALU | BPF_AND | BPF_K, k) });
  }

  ret(k: number): void {
    this.items.push({ kind: "stmt", ins: stmt(BPF_RET | BPF_K, k) });
  }

  /** A conditional jump: `op` is BPF_JEQ, BPF_JGT, BPF_JGE or BPF_JSET, compared with k. */
  jump(op: number, k: number, jt: Target, jf: Target): void {
    const next = jt === "next" || jf === "next" ? this.label() : undefined;
    const resolve = (t: Target): Label => (t === "next" ? next! : t);
    this.items.push({
      kind: "jump",
      code: BPF_JMP | op | BPF_K,
      k: k >>> 0,
      jt: resolve(jt),
      jf: resolve(jf),
    });
    if (next) this.bind(next);
  }

  goto(target: Label): void {
    this.items.push({ kind: "goto", target });
  }

  /** Resolves labels and returns the instructions; throws on unbound labels or backward jumps. */
  assemble(): SockFilter[] {
    const items: Item[] = this.items.map((item) => ({ ...item }));
    for (;;) {
      // Decide every trampoline against one layout, then insert them from the end backwards.
      const positions = this.layout(items);
      const inserts: { after: number; items: Item[] }[] = [];
      for (const [i, item] of items.entries()) {
        if (item.kind !== "jump") continue;
        const at = positions.instr[i]!;
        const added: Item[] = [];
        for (const side of ["jt", "jf"] as const) {
          if (this.offset(positions, item[side], at) <= MAX_COND_OFFSET) continue;
          const hop = this.label();
          added.push({ kind: "label", label: hop }, this.trampolineFor(positions, item[side]));
          item[side] = hop;
        }
        if (added.length > 0) inserts.push({ after: i, items: added });
      }
      if (inserts.length === 0) return this.emit(items, positions);
      for (const { after, items: added } of inserts.reverse()) items.splice(after + 1, 0, ...added);
    }
  }

  private layout(items: Item[]) {
    const instr: number[] = [];
    const labels = new Map<number, number>();
    const atPc: Item[] = [];
    let pc = 0;
    for (const [i, item] of items.entries()) {
      instr[i] = pc;
      if (item.kind === "label") labels.set(item.label.id, pc);
      else atPc[pc++] = item;
    }
    return { instr, labels, atPc, length: pc };
  }

  private offset(positions: ReturnType<BpfAssembler["layout"]>, target: Label, at: number): number {
    const to = positions.labels.get(target.id);
    if (to === undefined) throw internal(`label ${target.id} is never bound`);
    const off = to - (at + 1);
    if (off < 0) throw internal(`backward jump from ${at} to ${to}`);
    return off;
  }

  private trampolineFor(positions: ReturnType<BpfAssembler["layout"]>, target: Label): Item {
    const landing = positions.atPc[positions.labels.get(target.id)!];
    const isRet = landing?.kind === "stmt" && (landing.ins.code & 0x07) === BPF_RET;
    return isRet ? { kind: "stmt", ins: { ...landing.ins } } : { kind: "goto", target };
  }

  private emit(items: Item[], positions: ReturnType<BpfAssembler["layout"]>): SockFilter[] {
    const out: SockFilter[] = [];
    for (const [i, item] of items.entries()) {
      const at = positions.instr[i]!;
      if (item.kind === "stmt") out.push({ ...item.ins });
      else if (item.kind === "goto")
        out.push(stmt(BPF_JMP | BPF_JA, this.offset(positions, item.target, at)));
      else if (item.kind === "jump")
        out.push({
          code: item.code,
          jt: this.offset(positions, item.jt, at),
          jf: this.offset(positions, item.jf, at),
          k: item.k,
        });
    }
    return out;
  }
}

function internal(message: string): RuntimeError {
  return new RuntimeError("INTERNAL", `BPF assembler: ${message}`);
}
